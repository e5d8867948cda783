"""A tiny fake corpus in the organisers' layout, written by hand for the tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MIGHT = "URW: Praise of Russia: Praise of Russian military might"
DOOM = "CC: Amplifying Climate Fears: Doomsday scenarios for humans"
PRAISE = "URW: Praise of Russia"
FEARS = "CC: Amplifying Climate Fears"

EN_ARMY = [
    "The army advanced with unstoppable tanks.\nIts new missiles are the best in the world.",
    "Tanks and missiles of the mighty army crushed every defence line.",
    "Military parade shows unstoppable army power and modern missiles.",
    "Generals praise the invincible army, tanks roll forward again.",
]
EN_CLIMATE = [
    "Scientists warn the planet will burn.\r\nHumanity faces extinction from heat.",
    "Heatwaves and floods will end civilisation, climate doom is near.",
    "Extinction looms as the planet overheats and crops fail.",
    "Climate catastrophe will make cities uninhabitable, doom for humanity.",
]
EN_OTHER = [
    "The local football club won the cup on Sunday.",
    "A new bakery opened downtown selling fresh bread.",
    "The museum exhibition about painters attracts visitors.",
]
RU_ARMY = [
    "Армия наступает, танки и ракеты непобедимы.",
    "Новые ракеты и танки армии лучшие в мире.",
    "Непобедимая армия прорвала оборону, танки идут вперёд.",
    "Военный парад показал мощь армии и ракеты.",
]
RU_CLIMATE = [
    "Учёные предупреждают: планета сгорит, человечество вымрет.",
    "Жара и наводнения уничтожат цивилизацию, климатическая катастрофа.",
    "Вымирание неизбежно, планета перегревается.",
    "Климатическая катастрофа сделает города непригодными для жизни.",
]
RU_OTHER = [
    "Местный футбольный клуб выиграл кубок в воскресенье.",
    "В центре открылась новая пекарня со свежим хлебом.",
    "Выставка художников в музее привлекает посетителей.",
]


def write_corpus(root: Path) -> Path:
    """Write EN and RU folders with raw-documents/ and subtask-2-annotations.txt."""
    for lang, groups in (
        ("EN", (EN_ARMY, EN_CLIMATE, EN_OTHER)),
        ("RU", (RU_ARMY, RU_CLIMATE, RU_OTHER)),
    ):
        raw = root / lang / "raw-documents"
        raw.mkdir(parents=True)
        lines = []
        for g, texts in enumerate(groups):
            for i, text in enumerate(texts):
                doc_id = f"{lang}_{g}_{i}.txt"
                (raw / doc_id).write_bytes(text.encode("utf-8"))
                if g == 0:
                    lines.append(f"{doc_id}\t{PRAISE};{PRAISE}\t{MIGHT}")
                elif g == 1:
                    lines.append(f"{doc_id}\t{FEARS}\t{DOOM};{FEARS}: Other")
                else:
                    lines.append(f"{doc_id}\tOther\tOther")
        (root / lang / "subtask-2-annotations.txt").write_text("\n".join(lines) + "\n")
    return root


def fake_vectors(texts: Sequence[str]) -> np.ndarray:
    """Stand-in document vectors, shape (n, 512): a fixed pseudo-random vector per text, so
    tests that are not about the sentence encoder neither load nor run it."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "little")
        out[i] = np.random.default_rng(seed).normal(size=512)
    return out
