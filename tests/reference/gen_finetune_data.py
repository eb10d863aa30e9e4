#!/usr/bin/python3
"""Writes the small synthetic data sets the fine-tuning fixtures run on, in
the real data's formats (the real ones are not shipped):

    /usr/bin/python3 tests/reference/gen_finetune_data.py

finetune_sms.tsv: like the UCI "SMS Spam Collection" (SMSSpamCollection):
  UTF-8, LF line ends, `label<TAB>text` lines, labels ham/spam, no header.
  Made-up messages (~300 lines, deterministic: random.Random(2024) over
  fixed word lists), with the corners the book's pandas read_csv decides,
  each on a known line (printed when the script runs):
    - a text opening with '"' whose quote closes mid-field
      ('"Gimme a few" was ...' -> 'Gimme a few was ...');
    - doubled "" inside a quoted field (one '"' each);
    - a quoted field holding a tab;
    - a quote opened on one line and closed at the start of the text two
      lines further on (three lines make one row: its text holds two "\\n",
      both inner "ham\\t" and a final '"', as in the real file);
    - a text that is all quoted ('"FREE entry ..."' -> 'FREE entry ...');
    - a quoted label ('"spam"' -> spam);
    - '"' inside and at the end of unquoted texts (kept);
    - an empty line (skipped by read_csv);
    - non-ASCII text (pound sign, accents, an emoji outside the BMP) and C1
      controls (U+0092 as the real file has in "I\\x92m", U+0085);
    - HTML entities left as text (&lt;#&gt;, &amp;, &lt;DECIMAL&gt;);
    - very short texts ("Ok", "645") and texts longer than 16 bytes, for
      the byte-level runs whose max_length is 16.
  No text is one of pandas' NaN markers (NA, null, ...), none holds "\\r"
  or "<|endoftext|>"; the longest text is 25 GPT-2 tokens (296 rows: ham
  226, spam 70).

finetune_instructions.json: like the book's instruction-data.json: a JSON
  array of {"instruction", "input", "output"} objects (that key order),
  written as the real file is (json.dump indent=4, ASCII escapes, no final
  newline).  60 entries, 26 with an input (the others ""), a few with
  non-ASCII text (accents, Cyrillic, CJK, an emoji: a surrogate pair in the
  file), quotes, a backslash, and newlines inside values.

Nothing here draws from torch; the files are committed, so the fixtures do
not depend on this script's Python version.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

HAM_OPENERS = ["Ok", "Hey", "Hi", "Yup", "Sorry", "Hmm", "Lol", "Oh", "K", "Dear", "Haha", "Wat"]
HAM_BODIES = [
    "i'll call you later", "are you coming to the party tonight", "can't talk now, in a meeting",
    "see you at the station at 7", "what time does the movie start", "pls bring the charger",
    "mum says dinner is ready", "how was your exam", "i'm on the bus, reach in 10 min",
    "did you get my message", "let's meet for lunch tmr", "just woke up", "going home now",
    "don't forget the keys", "where are you", "the shop closes at 9", "call me when free",
    "happy birthday da", "that was so funny", "i will be late today", "ok i'll wait there",
    "she said she will come", "thanks for the gift", "i miss you", "have a nice day",
]
HAM_CLOSERS = ["", ".", "...", "!", " :)", " lor.", " la.", "?", " ;-)", " &lt;#&gt; mins"]
SPAM_OPENERS = ["URGENT!", "FREE", "Congratulations!", "WINNER!!", "Txt", "Claim", "Call",
                "You have won", "Final notice:"]
SPAM_BODIES = [
    "a 1000 cash prize awaits you", "your mobile number won a holiday", "reply WIN to 80086",
    "call 09061701461 now to claim", "txt STOP to 87239 to opt out", "a new ringtone for you",
    "claim your reward at www.prize-now.com", "entry in a weekly draw, std rates apply",
    "your account has a 500 bonus", "T&amp;C apply, 18+ only", "150p per msg",
]
SPAM_CLOSERS = ["", ".", "!", "!!", " now.", " Expires 31/12.", " &lt;DECIMAL&gt; GBP"]

# (label, line) pairs put at fixed places; a line is written as it stands
CORNERS = [
    ("quote_closes_mid_field", ['ham\t"Gimme a few" was all i said']),
    ("doubled_quotes", ['ham\t"He said ""hi"" and left" ok']),
    ("quoted_tab", ['ham\t"a tab\there" and more']),
    ("quote_spans_three_lines", ['ham\t"Open quote here, no close yet',
                                  'ham\tmiddle line of it',
                                  'ham\t"closing here and a final quote"']),
    ("all_quoted", ['spam\t"FREE entry in 2 a wkly comp to win FA Cup final tkts"']),
    ("quoted_label", ['"spam"\tWINNER! claim your prize today']),
    ("inner_quote_kept", ['ham\tShe said "yes" twice']),
    ("final_quote_kept", ["ham\tWhat's up\""]),
    ("empty_line", [""]),
    ("c1_apostrophe", ["ham\tI\u0092m going to try for 2 months ha ha only joking"]),
    ("c1_next_line", ["ham\tfirst\u0085second"]),
    ("pound_sign", ["spam\tYou have won \u00a3900! Call 09061701461 now"]),
    ("accents", ["ham\tCaf\u00e9 au lait, tr\u00e8s bien, na\u00efve"]),
    ("emoji", ["ham\tSee you soon \U0001F600"]),
    ("entities", ["ham\tI'll be there in &lt;#&gt; mins &amp; then leave"]),
    ("short_ok", ["ham\tOk"]),
    ("number_only", ["ham\t645"]),
]


def sms_lines(rng):
    body = []
    for i in range(280):
        if rng.random() < 0.22:
            text = " ".join([rng.choice(SPAM_OPENERS), rng.choice(SPAM_BODIES)]) + rng.choice(
                SPAM_CLOSERS)
            body.append("spam\t" + text)
        else:
            text = rng.choice(HAM_OPENERS) + " " + rng.choice(HAM_BODIES) + rng.choice(
                HAM_CLOSERS)
            if rng.random() < 0.3:
                text += " " + rng.choice(HAM_BODIES)
            body.append("ham\t" + text)
    # the corners spread through the file
    out, where = list(body), {}
    step = len(body) // (len(CORNERS) + 1)
    for k, (name, lines) in enumerate(reversed(CORNERS)):
        at = (len(CORNERS) - k) * step
        out[at:at] = lines
    line = 1
    for l in out:
        for name, lines in CORNERS:
            if l is lines[0]:
                where[name] = line
        line += 1
    return out, where


INSTRUCTIONS = [
    ("Convert the active sentence to passive: 'The chef cooks the meal every day.'", "",
     "The meal is cooked every day by the chef."),
    ("Identify the correct spelling of the following word.", "Ocassion",
     "The correct spelling is 'Occasion.'"),
    ("What is an antonym of 'complicated'?", "", "An antonym of 'complicated' is 'simple'."),
    ("Translate the following sentence into French.", "Where is the nearest restaurant?",
     "O\u00f9 est le restaurant le plus proche?"),
    ("What is the pH of a neutral solution at 25\u00b0C?", "",
     "The pH of a neutral solution at 25\u00b0C is 7."),
    ("Rewrite the sentence using a simile.", "The baby is very cute.",
     "The baby is as cute as a button."),
    ("Name the capital of Japan.", "", "The capital of Japan is Tokyo (\u6771\u4eac)."),
    ("Translate 'hello' into Russian.", "", "\u041f\u0440\u0438\u0432\u0435\u0442"),
    ("What is 6 times 7?", "", "6 \u00d7 7 = 42."),
    ("Describe the caf\u00e9 in one word.", "", "Cozy."),
    ("Add an emoji that fits the sentence.", "I passed my exam!",
     "I passed my exam! \U0001F389"),
    ("Write the path with a backslash.", "folder and file", "folder\\file"),
    ("Put the words in quotes.", "to be or not to be", "\"To be or not to be.\""),
    ("List three colors, one per line.", "", "Red\nGreen\nBlue"),
    ("Correct the grammar.", "He go to school every day.", "He goes to school every day."),
    ("Give a synonym for 'happy'.", "", "A synonym for 'happy' is 'joyful'."),
    ("Classify the animal.", "Dolphin", "A dolphin is a mammal."),
    ("What is the boiling point of water?", "",
     "The boiling point of water is 100 degrees Celsius at sea level."),
    ("Make the sentence shorter.", "In spite of the fact that it rained, we went out.",
     "Although it rained, we went out."),
    ("Name a primary color.", "", "Blue is a primary color."),
    ("Convert 5 kilometers to meters.", "", "5 kilometers is 5000 meters."),
    ("Summarize the text in five words.", "The meeting was moved from Monday to Friday.",
     "Meeting moved to Friday instead."),
    ("Spell the number in words.", "12", "Twelve."),
    ("What is the plural of 'mouse'?", "", "The plural of 'mouse' is 'mice'."),
    ("Turn the statement into a question.", "You like tea.", "Do you like tea?"),
    ("Give the opposite of 'early'.", "", "The opposite of 'early' is 'late'."),
    ("Name the largest planet.", "", "Jupiter is the largest planet in the solar system."),
    ("Fix the spelling.", "recieve", "receive"),
    ("Translate 'thank you' into German.", "", "Danke sch\u00f6n."),
    ("What is the chemical symbol for gold?", "", "The chemical symbol for gold is Au."),
    ("Rewrite in the past tense.", "She walks to work.", "She walked to work."),
    ("Name a fruit that is yellow.", "", "A banana is yellow."),
    ("Count the vowels.", "education", "The word 'education' has five vowels."),
    ("Write a haiku line about rain.", "", "Soft rain on the roof"),
    ("What is the square root of 81?", "", "The square root of 81 is 9."),
    ("Combine the sentences.", "I was tired. I went to bed.", "I was tired, so I went to bed."),
    ("Give an example of a verb.", "", "Run is a verb."),
    ("Capitalize the sentence.", "the sun is bright.", "The sun is bright."),
    ("Name the author of 'Hamlet'.", "", "William Shakespeare wrote 'Hamlet'."),
    ("Translate 'good night' into Spanish.", "", "Buenas noches."),
    ("What is the freezing point of water in Fahrenheit?", "",
     "Water freezes at 32 degrees Fahrenheit."),
    ("Rewrite the sentence politely.", "Give me the book.", "Could you please give me the book?"),
    ("Name a mammal that can fly.", "", "The bat is a mammal that can fly."),
    ("Find the odd word out.", "apple, banana, carrot", "Carrot is the odd one out."),
    ("State the main idea.", "Exercise keeps the body and the mind healthy.",
     "Exercise is good for health."),
    ("What is 15 divided by 3?", "", "15 divided by 3 is 5."),
    ("Give a word that rhymes with 'cat'.", "", "Hat rhymes with cat."),
    ("Change the sentence to future tense.", "They play football.",
     "They will play football."),
    ("Name the longest river in Africa.", "", "The Nile is the longest river in Africa."),
    ("Write the abbreviation.", "for example", "e.g."),
    ("Describe the weather.", "Sunny and warm", "It is a sunny and warm day."),
    ("Name a musical instrument with strings.", "", "The violin has strings."),
    ("Convert the temperature.", "0 degrees Celsius", "0 degrees Celsius is 32 degrees Fahrenheit."),
    ("Give the past participle of 'write'.", "", "The past participle of 'write' is 'written'."),
    ("What does CPU stand for?", "", "CPU stands for Central Processing Unit."),
    ("Translate 'cat' into Japanese.", "", "\u732b (neko)"),
    ("Name the season after summer.", "", "Autumn comes after summer."),
    ("Rewrite the sentence without the tab.", "one\ttwo", "one two"),
    ("Sort the numbers.", "3, 1, 2", "1, 2, 3"),
    ("What is the opposite of 'hot'?", "", "The opposite of 'hot' is 'cold'."),
]


def main():
    rng = random.Random(2024)
    lines, where = sms_lines(rng)
    with open(os.path.join(HERE, "finetune_sms.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    for name, line in sorted(where.items(), key=lambda kv: kv[1]):
        print("finetune_sms.tsv line %d: %s" % (line, name))
    data = [{"instruction": i, "input": x, "output": o} for i, x, o in INSTRUCTIONS]
    # the first validation entry (the sample's start context) is entry
    # int(60 * .85) + int(60 * .1) = 57; the book's is the passive sentence
    data[0], data[57] = data[57], data[0]
    with open(os.path.join(HERE, "finetune_instructions.json"), "w", encoding="ascii") as f:
        json.dump(data, f, indent=4)
    print("finetune_instructions.json: %d entries, %d with input"
          % (len(data), sum(bool(e["input"]) for e in data)))


if __name__ == "__main__":
    main()
