/* Temporary demo: replaced as the library grows. */
#include "attograd.h"

int main(void)
{
    Tensor *x = tensor_arange(0, 6, 1);
    printf("%s\n", tensor_shape_str(x));
    tensor_cleanup();
    return 0;
}
