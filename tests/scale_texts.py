"""Texts written for the scale tests (Ray engine, Parquet, the cluster check): a war
narrative, three neutral local stories and a claim about sanctions. No dataset text."""

TEXTS = [
    "The West Wanted This War\n\nFor thirty years NATO expanded eastwards and broke its "
    "promises to Moscow. Ukraine is a puppet of Washington and its army obeys foreign orders.",
    "City Budget Passed\n\nThe city council approved next year's budget on Tuesday. "
    "Funding for schools and bus lines rises by four percent, the mayor said.",
    "Grain Ships Leave Odesa\n\nUkraine's grain exports rose in May as ships left Odesa. "
    "Traders expect prices in Egypt and Turkey to fall before the harvest.",
    "Sanctions Hurt Europe Only\n\nThe sanctions against Russia are destroying European "
    "industry while Moscow grows richer than ever, the commentator claimed.",
    "Kyiv Shelters Reopen\n\nVolunteers in Kyiv reopened two shelters after the night's "
    "air raid; the mayor thanked the rescue teams from Lviv.",
]
