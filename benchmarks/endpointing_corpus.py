"""Sentences for the end-pointing benchmark.

" | " marks a clause boundary inside a sentence (the clause before it keeps its comma, so espeak
says it with continuation intonation); " ... " marks a hesitation after an unfinished clause (no
punctuation: espeak says the fragment like a finished statement, the hard case for an audio-only
end-of-turn model). Both become 200-500 ms pauses; closing a turn there is a split.
Even-numbered lines form the `dev` set (used while tuning the policy), odd-numbered ones the
`test` set the README figures come from.
"""

SENTENCES = (
    "So I was thinking that ... maybe we should take a break.",
    "Can you send me the report before lunch?",
    "When I got home, | I called my sister.",
    "I wanted to ask you about ... the budget for next year.",
    "The problem is ... we don't have enough people.",
    "Thanks, that was really helpful.",
    "If we move the deadline to ... the end of May, | we can finish the tests.",
    "Let me check my calendar.",
    "I think the meeting went well, | but the client still has questions.",
    "And then we could go ... to the beach on Saturday.",
    "What time does the train leave?",
    "My brother told me that ... the shop closes at six.",
    "Honestly, | I don't know what to do about it.",
    "We need to talk about ... the new contract.",
    "Sounds good to me.",
    "Because the weather was ... so bad yesterday, | we stayed inside.",
    "Could you repeat the last number?",
    "The thing is ... nobody told me about the change.",
    "After the call, | please write a short summary.",
    "I was going to say that ... the design looks great.",
    "Where did you put the keys?",
    "Maybe we could ask ... the team in Berlin for help.",
    "Yes, | I can do that tomorrow morning.",
    "It depends on ... how much time we have left.",
    "Let's start with the second point.",
    "I'm not sure whether ... we should wait or go now.",
    "If you have a minute, | I'd like to show you something.",
    "The results from ... the second experiment are much better.",
    "That's a good question.",
    "What I really want is ... a quiet place to work.",
    "Before we finish, | does anyone have another topic?",
    "I was wondering if ... you could help me with this form.",
    "No, | that's not what I meant.",
    "We could try to ... fix the bug before the release.",
    "How long will the installation take?",
    "She said that ... the package arrived this morning.",
    "To be honest, | the first version was too slow.",
    "Do you remember the name of ... that restaurant near the station?",
    "Okay, let's do it.",
    "The reason I'm calling is ... the invoice from last week.",
    "On the other hand, | the old system was easier to use.",
    "I guess we should ... wait for their answer.",
    "Is there anything else you need?",
    "So what you're saying is ... we need more servers.",
    "When you get a chance, | take a look at the logs.",
    "I'd rather ... meet in person next time.",
    "Perfect, thank you.",
    "The best option would be ... to rent a bigger room.",
    "As far as I know, | the office is closed on Friday.",
    "We should probably ... call them back today.",
    "Who is going to present the slides?",
    "I have a feeling that ... this will take longer than planned.",
    "Anyway, | let's move on to the next item.",
    "It would be nice if ... we could finish early today.",
    "Where are we meeting tomorrow?",
    "Let me think about ... the best way to explain it.",
    "If it rains, | we'll move the party indoors.",
    "What worries me is ... the cost of the new servers.",
    "I agree with you.",
    "Part of the problem is ... the old database.",
    "Right now, | I'm working on the quarterly report.",
    "Did you ever hear back from ... the people at the bank?",
    "I'll call you later.",
    "The main question is ... who pays for the repairs.",
    "Once the build is green, | we can ship it.",
    "I was hoping to ... leave a bit earlier tonight.",
    "Which one do you prefer?",
    "Another thing we could do is ... hire a contractor.",
    "By the way, | your package is at the front desk.",
    "Let's see if ... the printer works now.",
    "That makes sense.",
    "My plan for the weekend is ... to finally fix the bike.",
)


def split_set(name: str) -> tuple[str, ...]:
    if name not in ("dev", "test", "all"):
        raise ValueError(f"unknown set {name!r} (dev, test, all)")
    if name == "all":
        return SENTENCES
    return SENTENCES[0::2] if name == "dev" else SENTENCES[1::2]
