"""USE vectors bent towards the debunk pairing: a learned low-rank map per side (issue 25).

Why: USE puts a tweet and the Snopes claim it restates near each other only as two texts
on one topic (its cosine alone: MAP@5 0.63 over the 14,231 CheckThat! 2A claims). Two
small residual maps, ``v + (v @ down) @ up`` for units and another for debunks, trained
with a softmax over every debunk of the archive, read the pairing better (0.74 out of
fold) and cost nothing a fine-tuned encoder would: the vectors are the ones the matcher
already has, a unit's map is a [512 x 32] product and a debunk's is made only for the
shortlisted rows (docs/debunks-research.md, "USE, bent to the pairing").
A fine-tuned e5 reads the pairing better still (0.88) but costs 9 ms a debunk and 18 ms a
unit, over the issue's speed bars (:mod:`narrascope.training.debunk_reader`).

``fit`` needs torch (``narrascope[train]``); the maps themselves are numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrascope.models.artefact import Estimator

PARTS = ("unit_down", "unit_up", "debunk_down", "debunk_up")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


class PairMap(Estimator):
    """Maps unit and debunk vectors so that their cosine says "restates".

    Parameters: ``rank`` of each map's correction, ``epochs``, ``lr`` and
    ``weight_decay`` (AdamW), ``batch`` (queries per step), ``seed``. Out of fold on the
    2A train queries, rank 32 and 5 epochs did best (0.738); rank 256 over 20 epochs
    learned the train queries by heart (0.679).
    """

    artefact_what = "debunk pair map"
    train_hint = "it is fitted by `python -m narrascope.training.debunks`"

    def __init__(
        self,
        *,
        rank: int = 32,
        epochs: int = 5,
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        batch: int = 64,
        seed: int = 0,
    ) -> None:
        self._set_params(locals())

    def fit(self, units: np.ndarray, debunks: np.ndarray, gold: Sequence[Sequence[int]]) -> PairMap:
        """``units[i]`` restates the rows ``gold[i]`` of ``debunks`` (every other row is a
        negative: the softmax runs over the whole archive)."""
        from narrascope.training.e5 import INSTALL, torch

        if torch is None:
            raise ImportError(f"fitting a PairMap needs torch: {INSTALL}")
        rows = [i for i, g in enumerate(gold) if len(g)]
        if not rows:
            raise ValueError("no unit has a gold debunk")
        torch.manual_seed(self.seed)
        q = torch.tensor(_unit_rows(np.asarray(units, np.float32))[rows])
        v = torch.tensor(_unit_rows(np.asarray(debunks, np.float32)))
        targets = [list(gold[i]) for i in rows]
        dim = q.shape[1]
        params = {
            "unit_down": torch.zeros(dim, self.rank),
            "unit_up": torch.randn(self.rank, dim) * 0.01,
            "debunk_down": torch.zeros(dim, self.rank),
            "debunk_up": torch.randn(self.rank, dim) * 0.01,
        }
        for p in params.values():
            p.requires_grad_(True)
        log_scale = torch.tensor(3.0, requires_grad=True)
        opt = torch.optim.AdamW(
            [*params.values(), log_scale], lr=self.lr, weight_decay=self.weight_decay
        )

        def bend(x: object, side: str) -> object:
            moved = x + (x @ params[f"{side}_down"]) @ params[f"{side}_up"]
            return torch.nn.functional.normalize(moved, dim=-1)

        for _ in range(self.epochs):
            order = torch.randperm(len(rows))
            for start in range(0, len(rows), self.batch):
                pick = order[start : start + self.batch]
                scores = log_scale.exp() * bend(q[pick], "unit") @ bend(v, "debunk").T
                logp = scores.log_softmax(1)
                loss = -torch.stack(
                    [logp[j, targets[int(i)]].logsumexp(0) for j, i in enumerate(pick)]
                ).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.maps_ = {k: p.detach().numpy().astype(np.float32) for k, p in params.items()}
        self._kept = None
        return self

    def units(self, vectors: np.ndarray) -> np.ndarray:
        """Unit vectors as the pairing reads them (unit length)."""
        return self._bend(vectors, "unit")

    def debunks(self, vectors: np.ndarray) -> np.ndarray:
        """Debunk vectors as the pairing reads them (unit length)."""
        return self._bend(vectors, "debunk")

    def debunk_terms(self, vectors: np.ndarray) -> np.ndarray:
        """[n, 3 * rank + 1] per-debunk numbers from which :meth:`cosines` gives the bent
        cosine of any unit without touching the debunk's 512 values again: ``d @ down``,
        ``d @ unit_up.T``, ``d @ debunk_up.T`` and ``|d|²`` (the matcher keeps them for
        the whole archive: 39 MB at 100k debunks)."""
        self._check_fitted()
        m = self.maps_
        cols = np.hstack([m["debunk_down"], m["unit_up"].T, m["debunk_up"].T])
        out = np.empty((len(vectors), cols.shape[1] + 1), np.float32)
        for start in range(0, len(vectors), 20_000):
            d = np.asarray(vectors[start : start + 20_000], np.float32)
            out[start : start + len(d), :-1] = d @ cols
            out[start : start + len(d), -1] = np.einsum("ij,ij->i", d, d)
        return out

    def cosines(
        self, units: np.ndarray, unit_of: np.ndarray, terms: np.ndarray, plain: np.ndarray
    ) -> np.ndarray:
        """The bent cosine of pairs (``units[unit_of[i]]``, debunk ``i``), from the
        debunks' :meth:`debunk_terms` rows and their plain dot products with the
        (unit-length) ``units``: the same numbers as bending both vectors, with no
        [pairs x 512] array (the maps are linear; the algebra is in the code)."""
        self._check_fitted()
        m, r = self.maps_, self.rank
        u = _unit_rows(np.asarray(units, np.float32))
        p = u @ m["unit_down"]  # u' = u + p @ unit_up
        unit_norm = np.linalg.norm(u + p @ m["unit_up"], axis=1)
        # (d + a @ debunk_up) . (u + p @ unit_up)
        #   = d.u + b.p + a.(debunk_up @ u) + a.(debunk_up @ unit_up.T @ p)
        cross, gram = self._products()
        q = u @ m["debunk_up"].T + p @ cross.T
        a, b, c = terms[:, :r], terms[:, r : 2 * r], terms[:, 2 * r : 3 * r]
        dot = plain + np.einsum("ij,ij->i", b, p[unit_of]) + np.einsum("ij,ij->i", a, q[unit_of])
        # |d + a @ debunk_up|^2 = |d|^2 + 2 a.c + a @ (debunk_up @ debunk_up.T) @ a
        square = terms[:, -1] + 2 * np.einsum("ij,ij->i", a, c) + np.einsum("ij,ij->i", a @ gram, a)
        return dot / np.maximum(unit_norm[unit_of] * np.sqrt(np.maximum(square, 1e-12)), 1e-9)

    def _products(self) -> tuple[np.ndarray, np.ndarray]:
        """``debunk_up @ unit_up.T`` and ``debunk_up @ debunk_up.T`` ([rank, rank]),
        made once per fitted map."""
        if getattr(self, "_kept", None) is None:
            up = self.maps_["debunk_up"]
            self._kept = (up @ self.maps_["unit_up"].T, up @ up.T)
        return self._kept

    def _bend(self, vectors: np.ndarray, side: str) -> np.ndarray:
        self._check_fitted()
        x = _unit_rows(np.asarray(vectors, np.float32))
        return _unit_rows(x + (x @ self.maps_[f"{side}_down"]) @ self.maps_[f"{side}_up"])

    def _get_state(self) -> dict[str, np.ndarray]:
        return dict(self.maps_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        maps = {k: np.asarray(state[k], np.float32) for k in PARTS}
        for side in ("unit", "debunk"):
            down, up = maps[f"{side}_down"], maps[f"{side}_up"]
            if down.ndim != 2 or up.shape != (down.shape[1], down.shape[0]):
                raise ValueError(f"{side} map has shapes {down.shape} and {up.shape}")
        self.maps_ = maps
        self._kept = None
