"""Sentences for the end-pointing benchmark.

" | " marks a clause boundary inside a sentence (the clause before it keeps its comma, so espeak
says it with continuation intonation); " ... " marks a hesitation after an unfinished clause (no
punctuation: espeak says the fragment like a finished statement, the hard case for an audio-only
end-of-turn model). Both become 200-500 ms pauses; closing a turn there is a split.
Turns vary in length from one word to several seconds, and pauses come early and late in a turn,
so neither the turn's length nor the position of a pause gives the answer away. Within each group
every other sentence goes to the `dev` set (used while tuning the policy), the rest to the `test`
set the README figures come from.
"""

SENTENCES = (
    # short, complete turns (a turn-length rule would wrongly hold these open)
    "Yes.",
    "Okay.",
    "Sure, go ahead.",
    "Thanks a lot.",
    "Not really.",
    "I see.",
    "Exactly.",
    "Good morning.",
    "Sounds good to me.",
    "Let me check.",
    "No problem.",
    "Why not?",
    "That makes sense.",
    "Perfect, thank you.",
    # plain, medium
    "Can you send me the report before lunch?",
    "What time does the train leave?",
    "Could you repeat the last number?",
    "Where did you put the keys?",
    "Let's start with the second point.",
    "How long will the installation take?",
    "Is there anything else you need?",
    "Who is going to present the slides?",
    "I'll call you back in ten minutes.",
    "Which one do you prefer?",
    # long, plain
    "I spent the whole morning on the phone with the insurance company about the broken window.",
    "The new version of the app crashes every time I try to open the settings page on my phone.",
    "We should probably book the tickets this week because the prices go up after the holidays.",
    "My sister is coming to visit next weekend and she wants to see the old town and the museum.",
    "The quarterly report shows that sales in the northern region went up by almost twenty percent.",
    "I really think we need to hire at least two more people for the support team this year.",
    # early hesitations
    "So ... I was thinking that maybe we should take a break.",
    "Well ... I don't know what to say about that.",
    "I wanted to ask you about ... the budget for next year.",
    "The problem is ... we don't have enough people.",
    "And then we could go ... to the beach on Saturday.",
    "My brother told me that ... the shop closes at six.",
    "The thing is ... nobody told me about the change.",
    "Maybe we could ask ... the team in Berlin for help.",
    "I'm not sure whether ... we should wait or go now.",
    "I guess we should ... wait for their answer before we decide anything.",
    "The reason I'm calling is ... the invoice from last week.",
    "It would be nice if ... we could finish early today.",
    # late hesitations (after a long stretch of speech)
    "I talked to the people at the bank this morning and they told me that ... the loan was approved.",
    "We tested the new battery in the lab for three weeks and it turns out that ... it lasts twice as long.",
    "After the meeting with the client I went back to the office and I started to ... rewrite the whole proposal.",
    "I was looking at the numbers from the last quarter and I noticed that ... the costs went up again.",
    "The engineers from the other team spent two days on the problem and in the end they decided to ... replace the server.",
    "When I finally got to the station the train had already left so I had to ... take a taxi to the airport.",
    "I read the whole contract again last night and there is one part about ... the payment terms that worries me.",
    "We moved all the old files to the new system over the weekend but some of the ... older invoices are missing.",
    "My neighbor has been renovating his kitchen for two months and every morning at seven he starts ... drilling into the wall.",
    "I have been thinking about what you said yesterday and I believe that ... you were right after all.",
    # two hesitations
    "So ... what I wanted to say is that ... the plan needs more time.",
    "I think ... if we start now ... we can still make it.",
    "The best option would be ... to rent a bigger room and ... invite everyone.",
    "We could try to ... fix the bug tonight and ... release on Monday.",
    # comma boundaries, early and late
    "When I got home, | I called my sister.",
    "Honestly, | I don't know what to do about it.",
    "If you have a minute, | I'd like to show you something.",
    "To be honest, | the first version was too slow.",
    "As far as I know, | the office is closed on Friday.",
    "If it rains, | we'll move the party indoors.",
    "We tried three different approaches over the last two weeks, | and none of them worked.",
    "The delivery was supposed to arrive on Tuesday morning at the latest, | but it never came.",
    "I usually take the bus to work when the weather is bad, | but today I walked.",
    "We went through every single line of the report together, | and we still found mistakes.",
    "Before we finish, | does anyone have another topic?",
    "By the way, | your package is at the front desk.",
    # comma boundary plus a hesitation
    "If we move the deadline to ... the end of May, | we can finish the tests.",
    "Because the weather was ... so bad yesterday, | we stayed inside.",
    "Once the build is green, | we can ... ship it to the customers.",
    "After the call, | please write ... a short summary for the team.",
)


def split_set(name: str) -> tuple[str, ...]:
    if name not in ("dev", "test", "all"):
        raise ValueError(f"unknown set {name!r} (dev, test, all)")
    if name == "all":
        return SENTENCES
    # the list is grouped by kind (short, long, early/late hesitation, ...): alternate inside it
    start = 0 if name == "dev" else 1
    return SENTENCES[start::2]
