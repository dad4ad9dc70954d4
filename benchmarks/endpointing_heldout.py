"""The held-out split of the end-pointing sets: what the README's figures come from.

    heldout_split() -> list[Item]

Kept out of tuning three ways: its own voices (accents and voice variants that the tuning split
never uses), its own sentences (written here, by hand, none of them producible by the tuning
grammar or in the old corpus's dev half), and its own seed. Only `benchmarks/endpointing.py`
imports this module; the tuning code (`endpointing_tune.py`, `endpointing_sets.py`,
`endpointing_grammar.py`, `endpointing_train_text.py`) and the package never do, and
`endpointing_tune.py` refuses the import at run time. tests/audio/test_endpointing_sets.py checks
the imports, the voices and the sentences.

" ... " marks a hesitation (150-900 ms), " | " a pause at a comma (150-600 ms); each mark is a
pause in 80 % of renderings. Half the conversations get noise (pink, brown, white, hum, babble)
at 5-20 dB SNR.
"""

from __future__ import annotations

import numpy as np
from endpointing_sets import PER_CONV, Item, marked_turn, render_split

HELDOUT_SEED = 9001
HELDOUT_ACCENTS = ("en-029", "en-us-nyc", "en-gb-x-gbcwmd")
HELDOUT_VARIANTS = (
    "Alex", "Andy", "Annie", "AnxiousAndy", "benjamin", "croak", "Denis", "edward", "f2", "f5",
    "Gene2", "gustave", "iven", "iven4", "kaukovalta", "klatt3", "klatt6", "m1", "m4", "m7", "Marco",
    "Michael", "Mike", "norbert", "pedro", "RicishayMax2", "robert", "robosoft3", "robosoft6",
    "sandro", "steph2", "travis", "victor",
)  # fmt: skip

HELDOUT_SENTENCES = (
    # short complete turns
    "Yep.",
    "Nope.",
    "Fair enough.",
    "Totally.",
    "Go for it.",
    "Makes sense.",
    "Hold on.",
    "Not yet.",
    "Count me in.",
    "Good point.",
    "Almost.",
    "Of course not.",
    "Hmm, | I doubt it.",
    "Okay, | go on.",
    "Really?",
    "Seriously?",
    "Since when?",
    "How come?",
    "Tomorrow, | probably.",
    "Twenty five.",
    # questions
    "Did anyone water the ... tomatoes while I was away?",
    "How many people signed up for ... the workshop?",
    "Is it ... too late to change my answer?",
    "Could we maybe ... push the call to Thursday?",
    "What did the ... doctor say about your knee?",
    "Are you still ... using the old laptop?",
    "Why is the ... heating on in the middle of July?",
    "Who left the ... milk out of the fridge?",
    "Where exactly did you ... park the van?",
    "Have you ever been to ... Lisbon in the winter?",
    "Do we really need ... another meeting about this?",
    "When does the ... swimming pool open on Sundays?",
    # lists
    "We still need eggs, | flour, | butter, | and a bit of sugar.",
    "Pack the charger, | the passport, | and the ... blue folder.",
    "Red, | green, | or yellow?",
    "I speak English, | Dutch, | and a little ... Portuguese.",
    "Bring a towel, | sunscreen, | and ... something to read.",
    "Monday, | Wednesday, | and Friday.",
    # complete trailing conjunctions
    "We talked about taxes, | pensions, | and so forth.",
    "She plays the piano, | the violin, | and whatnot.",
    "Just the usual stuff, | you know, | emails and so on.",
    "I could take the early bus | or something.",
    "He fixed the roof | and all that.",
    "We'll need chairs and tables | and things like that.",
    # hesitations after a function word, early and late
    "The thing I ... really liked was the music.",
    "My uncle is ... a pilot for a small airline.",
    "It depends on ... how much time we have left.",
    "I would rather ... stay at home tonight.",
    "We ran out of ... printer paper again.",
    "The kids are at ... their grandparents until Sunday.",
    "You can leave it on ... the table by the door.",
    "She told me that ... the vet was closed for the holidays.",
    "Last year we drove all the way to the mountains and the ... car broke down twice.",
    "I have been learning to cook since the spring and my favourite dish is ... a spicy lentil soup.",
    "The guy who lives upstairs plays the drums every evening and honestly it is ... driving me crazy.",
    "Our landlord finally agreed to repair the heating but he wants us to ... pay for half of it.",
    "The museum downtown has a new exhibition about ancient maps and I would love to ... see it with you.",
    "I tried to return the jacket at the shop yesterday but they said the ... receipt was too old.",
    # hesitations mid-phrase, two hesitations
    "Honestly I think the ... the second option is better.",
    "We should ... probably ... ask for a discount.",
    "If the weather holds ... we could have ... a picnic by the lake.",
    "I was going to ... call you but my ... phone died.",
    "The results look ... surprisingly good for a first try.",
    "He keeps saying that ... he will ... clean the garage.",
    # comma pauses
    "When the movie ended, | everybody just sat there in silence.",
    "If you see Maria, | tell her the keys are under the mat.",
    "Without the map, | we would have been lost for hours.",
    "After dinner, | let's go for a walk along the river.",
    "Frankly, | the hotel was a disappointment.",
    "In the end, | we chose the cheaper flat.",
    "As I was saying, | the bridge will be closed all week.",
    "Every time I open the fridge, | something else has gone bad.",
    "The concert was sold out, | so we watched it online.",
    "My phone was on silent, | which is why I missed your call.",
    "We waited for almost an hour at the gate, | and then they cancelled the flight.",
    "The cat knocked the vase off the shelf, | but luckily it didn't break.",
    # comma plus hesitation
    "Before you go, | could you ... sign these forms?",
    "To be fair, | the ... instructions were confusing.",
    "Once the paint dries, | we can ... hang the pictures.",
    "If nobody objects, | I'll ... book the restaurant for eight.",
    "Funny enough, | I ran into ... your cousin at the market.",
    "Now that you mention it, | the ... printer did make a strange noise.",
)


def heldout_turns(rng: np.random.Generator) -> list[list]:
    order = rng.permutation(len(HELDOUT_SENTENCES))
    turns = [marked_turn(HELDOUT_SENTENCES[int(i)], rng) for i in order]
    # two renderings of every sentence (other pauses, voice, noise); whole conversations only
    turns += [marked_turn(HELDOUT_SENTENCES[int(i)], rng) for i in rng.permutation(len(HELDOUT_SENTENCES))]
    return turns[: len(turns) // PER_CONV * PER_CONV]


def heldout_split(conversations: int | None = None) -> list[Item]:
    """The held-out recordings (all of them unless `conversations` asks for fewer)."""
    rng = np.random.default_rng(HELDOUT_SEED)
    turns = heldout_turns(rng)
    if conversations is not None:
        turns = turns[: conversations * PER_CONV]
    return render_split(turns, rng, HELDOUT_ACCENTS, HELDOUT_VARIANTS, "heldout")
