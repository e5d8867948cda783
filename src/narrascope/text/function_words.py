"""Function words, per language: what a highlighted span must not start or end on.

A technique span is found by summing per-word n-gram weights (``models.spans``), and a
window of two or three words easily takes in a neighbour that carries no meaning of its
own: "Zelensky is", "deal because", "а Европа". Readers saw underlines on "just",
"through", "example". The lists are short and hand-made (articles, prepositions,
conjunctions, pronouns, auxiliaries, particles, and the adverbs and discourse words that
only modulate: "just", "also", "for example"); a word missing from them only means an
edge is kept, never that a span is lost.
"""

from __future__ import annotations

import re

# A word: letters, digits and marks (Python's \w lacks Devanagari vowel signs and
# viramas, and the combining accents of decomposed text: without them a Hindi word, or an
# NFD "invasão", would be cut in pieces), with inner ' ’ -.
LETTER = (
    r"\w\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
    r"\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
WORD = re.compile(rf"[{LETTER}][{LETTER}'’-]*")

_WORDS = {
    "en": """a about above after again against all almost already also although always am
        among an and another any are as at be because been before being below between both
        but by can could did do does doing down during each either else even ever every
        example few for from further had has have having he her here hers herself him
        himself his how however i if in instance into is it its itself just least less
        let like many me might more most much must my myself neither no nor not now
        of off often on once one only or other our ours ourselves out over own per quite
        rather really same shall she should since so some still such than that the their
        theirs them themselves then there these they this those though through thus to
        too toward towards under until up upon us very via was we were what whatever when
        where whether which while who whom whose why will with within without would yet
        you your yours yourself yourselves""",
    "ru": """а без более больше будет будто бы был была были было быть в вам вас весь во
        вот все всего всех всё вы где да даже для до его ее её если есть еще ещё же за
        здесь и из или им их к как какой когда кто ли либо лишь между меня мне много
        может можно мы на над надо наш не него нее неё нет ни них но ну о об однако он
        она они оно от очень перед по под после потому почти при про раз с сам свой себя
        со так также такой там тем то тогда того тоже только том тот ту тут у уж уже
        хотя чего чем через что чтобы чуть эта эти это этого этом этот я например снова
        опять просто именно""",
    "uk": """а або але без би був була були було бути в вам вас ви від він вона вони воно
        все всі вже да де для до є же з за зі і із й інший їх їм його її к коли котрий
        лише між мені ми на над наш не нема ні но о об однак під по при про раз саме
        свій себе та так також там теж те ти то тому тут у уже хоча це цей ці ця чи що
        щоб як який якщо я наприклад знову просто""",
    "bg": """а аз без би бе бил била били било в във вие все всички всичко въпреки където
        да до докато е за и из или им има като какво какъв когато който която което които
        към ли на над не нещо ни но о от по под пред при през с са се си сме след със
        също та така там те то той тя тук у че ще щом я например отново просто само
        дори вече още""",
    "pt": """a à ao aos as às até com como da das de dela dele deles do dos e é ela elas
        ele eles em entre era essa esse esta está estão este eu foi for há isso isto já
        lhe mais mas me mesmo muito na nas não nem no nos o os ou para pela pelas pelo
        pelos por porque quando que quem se sem ser seu sua são também te tem um uma umas
        uns vai ainda apenas só exemplo já então""",
    "fr": """à au aux avec ce ces cet cette dans de des du elle elles en est et eux il ils
        je la le les leur leurs lui ma mais me même mes moi mon ne ni nos notre nous on ou
        où par pas pour qu que qui sa se ses si son sont sur ta te tes toi ton tu un une
        vos votre vous y été être encore aussi juste seulement très exemple""",
    "de": """aber als am an auch auf aus bei bin bis bist da dann das dass dem den der des
        die dies diese dieser dieses doch du durch ein eine einem einen einer eines er es
        für hat haben ich ihr ihre im in ist ja kein mit nach nicht noch nur oder ob sich
        sie sind so über um und uns von vor war wie wieder wir wird zu zum zur sehr schon
        beispiel""",
    "it": """a ad al alla alle allo ai agli anche che chi ci con da dal dalla dei del della
        delle di e è ed gli ha hanno i il in io la le lei li lo loro lui ma mi ne nel
        nella non o per più questa questo se si sono su sua suo tra tu un una uno voi
        ancora già solo molto esempio""",
    "pl": """a aby ale bo by był była było być czy do dla go i ich im jak jest jego jej
        już ma mi na nad nie o od oraz po pod przez przy się są ta tak także te tego ten
        to tu w we z za ze że żeby jeszcze tylko bardzo znowu przykład""",
    "hi": """और का की के को में से पर ने है हैं था थी थे हो भी तो ही यह वह ये वे इस उस इन उन
        एक कि जो जब तक लिए साथ बाद या लेकिन किया कर रहा रही रहे गया गई गए""",
}
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _WORDS.items()
}
# a language without a list (or unknown): any language's function word counts
_ANY = frozenset().union(*FUNCTION_WORDS.values())


def function_words(language: str | None) -> frozenset[str]:
    """The lower-case function words of ``language`` (of all languages when it has none)."""
    return FUNCTION_WORDS.get(language or "", _ANY)


def is_function_word(word: str, stop: frozenset[str]) -> bool:
    """Whether ``word`` is in ``stop`` (lower-cased); a word in capitals is an acronym
    and never one ("US", "EU", "IS")."""
    return word.lower() in stop and not (len(word) > 1 and word.isupper())


def content_bounds(text: str, start: int, end: int, language: str | None) -> tuple[int, int] | None:
    """``text[start:end]`` narrowed to run from its first content word to its last (no
    function word, punctuation or space at either edge); None when it has no content word."""
    stop = function_words(language)
    words = [m.span() for m in WORD.finditer(text, start, end)]
    content = [(s, e) for s, e in words if not is_function_word(text[s:e], stop)]
    if not content:
        return None
    return content[0][0], content[-1][1]
