"""Which side of the war an entity's name belongs to: Russia, Ukraine or the West.

The same name is cast in opposite roles by opposite texts: Putin is a Guardian in a
pro-Kremlin blog and a Tyrant in a Ukrainian news site. The entity model learns a name's
usual role, so on its own it repeats the majority view of its training data. Knowing the
side a name belongs to lets it learn, pooled over all the names of that side, how the
document's narratives turn the roles ("Praise of Russia" makes Russia's side the heroes
and the West's the villains), which a per-name feature cannot learn from a few examples.

The lists are hand-written world knowledge (states, capitals, leaders, armies, alliances),
not learned from data, in the languages Narrascope reads. A name matches a side when one
of its words starts with a stem; stems of up to three Latin or Cyrillic letters
(acronyms) must equal a word, and multi-word stems must occur as whole words. The first
matching word decides.
"""

from __future__ import annotations

import regex

_DEVANAGARI = regex.compile(r"\p{Devanagari}")  # its short stems are words, not acronyms
_WORDS = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:\.[\p{L}\p{N}]+)*\.?")

# fmt: off
SIDES: dict[str, tuple[str, ...]] = {
    "russia": (
        # en, pt
        "russia", "rússia", "russo", "russa", "moscow", "moscovo", "moscou", "kremlin",
        "putin", "lavrov", "shoigu", "peskov", "medvedev", "gerasimov", "wagner", "prigozhin",
        "zakharova", "rf", "fsb",
        # ru, uk, bg
        "росси", "российск", "росія", "російськ", "русия", "руск", "русск", "русна", "москв",
        "московск", "кремл", "кремъл", "путин", "путін", "лавров", "шойгу", "песков",
        "медведев", "герасимов", "вагнер", "пригожин", "захаров", "рф", "фсб",
        # hi
        "रूस", "पुतिन", "क्रेमलिन", "मॉस्को", "मास्को", "लावरोव", "वैगनर", "पेसकोव",
        # officials, state companies and regions; allies (Belarus, North Korea)
        "ryabkov", "riabkov", "рябков", "nebenzia", "nebenzya", "небензя", "kadyrov",
        "кадыров", "кадиров", "rosatom", "росатом", "kursk", "курск", "कुर्स्क", "belgorod",
        "белгород", "sevastopol", "севастопол", "belarus", "bielorrússia", "беларус",
        "белорус", "білорус", "lukashenk", "лукашенк", "north korea", "coreia do norte",
        "кндр", "северная корея", "северна корея", "північна корея", "kim jong", "ким чен",
        "उत्तर कोरिया", "उत्तर कोरियाई", "किम जोंग",
    ),
    "ukraine": (
        "ukrain", "ucrân", "ucran", "kyiv", "kiev", "kiew", "zelensk", "zelenski", "kuleba",
        "zaluzhn", "afu", "azov",
        "украин", "украйн", "україн", "киев", "київ", "зеленск", "зеленськ", "зеленски",
        "кулеба", "залужн", "всу", "зсу", "азов",
        "यूक्रेन", "कीव", "जेलेंस्की", "ज़ेलेंस्की", "जेलेन्स्की", "ज़ेलेन्स्की",
        # officials and services; the pejoratives of pro-Kremlin texts
        "yermak", "ермак", "єрмак", "klitschko", "кличко", "poroshenko", "порошенко",
        "budanov", "буданов", "syrsk", "сырск", "сирськ", "podolyak", "podoliak", "подоляк",
        "sbu", "сбу", "укронацист", "укрофашист", "бандеров", "бандерів", "ukronazi",
    ),
    "west": (
        # alliances and institutions
        "nato", "otan", "нато", "नाटो", "नेटो", "organização do tratado do atlântico norte",
        "eu", "ue", "ес", "єс", "евросоюз", "european union", "união europeia", "europ",
        "европ", "європ", "यूरोप", "brussels", "bruxelas", "брюксел", "брюссел",
        "von der leyen", "фон дер лайен", "west", "ocident", "запад", "захід", "західн",
        "पश्चिम",
        # the United States
        "us", "u.s", "u.s.", "usa", "eua", "сша", "сащ", "united states", "estados unidos",
        "съединените щати", "соединенные штаты", "сполучені штати", "america", "américa",
        "americ", "америк", "अमेरिका", "अमेरिकी", "washington", "вашингтон", "pentagon",
        "пентагон", "cia", "цру", "biden", "байден", "байдън", "बाइडेन", "बाइडन", "blinken",
        "блинкен",
        # the large European NATO members
        "britain", "british", "uk", "reino unido", "британ", "великобритан", "ब्रिटेन",
        "london", "londres", "лондон", "germany", "alemanha", "германи", "німеччин", "जर्मनी",
        "scholz", "шолц", "шольц", "france", "frança", "франци", "франці", "फ्रांस", "macron",
        "макрон", "poland", "polónia", "polônia", "польш", "полша", "польщ", "पोलैंड",
        # officials of NATO, the EU and the US; the White House
        "stoltenberg", "столтенберг", "rutte", "рютте", "рюте", "nuland", "нуланд",
        "kallas", "каллас", "калас", "baerbock", "бербок", "sunak", "сунак",
        "kamala", "камала", "कमला", "white house", "casa branca", "белый дом", "белия дом",
        "білий дім", "व्हाइट हाउस",
        # NATO members of the Baltic and the North
        "lithuania", "lituânia", "литв", "латви", "latvia", "letónia", "letônia", "estonia",
        "estónia", "estônia", "эстони", "естони", "finland", "finlândia", "финлянд",
        "фінлянд", "sweden", "suécia", "швеци", "швеці", "netherlands", "holanda",
        "países baixos", "нидерланд", "нідерланд",
    ),
}
# fmt: on


def _compile(stems: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    exact = frozenset(
        s for s in stems if " " not in s and len(s.rstrip(".")) <= 3 and not _DEVANAGARI.search(s)
    )
    phrases = tuple(s for s in stems if " " in s)
    prefixes = tuple(s for s in stems if s not in exact and " " not in s)
    return exact, prefixes, phrases


_TABLE = [(side, *_compile(stems)) for side, stems in SIDES.items()]


def entity_side(name: str) -> str | None:
    """``"russia"``, ``"ukraine"``, ``"west"`` or ``None`` for a mention's name."""
    low = name.lower()
    words = _WORDS.findall(low)
    if not words:
        return None
    padded = " " + " ".join(words) + " "
    best: tuple[int, str] | None = None
    for side, exact, prefixes, phrases in _TABLE:
        for i, w in enumerate(words):
            if w in exact or w.rstrip(".") in exact or w.startswith(prefixes):
                if best is None or i < best[0]:
                    best = (i, side)
                break
        for p in phrases:
            at = padded.find(" " + p + " ")
            if at >= 0:
                i = padded[:at].count(" ")
                if best is None or i < best[0]:
                    best = (i, side)
    return best[1] if best else None
