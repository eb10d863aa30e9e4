/* The book's chapter-3 input: six tokens embedded in 3 dims, (6, 3). */
#ifndef ATTOGRAD_BOOK_INPUTS_H
#define ATTOGRAD_BOOK_INPUTS_H

enum { BOOK_T = 6, BOOK_D_IN = 3 };

static const float book_inputs[BOOK_T * BOOK_D_IN] = {
    0.43f, 0.15f, 0.89f,   /* Your     (x^1) */
    0.55f, 0.87f, 0.66f,   /* journey  (x^2) */
    0.57f, 0.85f, 0.64f,   /* starts   (x^3) */
    0.22f, 0.58f, 0.33f,   /* with     (x^4) */
    0.77f, 0.25f, 0.10f,   /* one      (x^5) */
    0.05f, 0.80f, 0.55f,   /* step     (x^6) */
};

#endif /* ATTOGRAD_BOOK_INPUTS_H */
