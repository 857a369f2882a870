"""MMRec format: per-user split, parser and its errors, BPR triples, the synthetic generator, MovieLens conversion."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import DatasetError
from datamodules.mmrec import BPRTriples, MMRecDataModule
from rawdata import layouts
from rawdata.layouts.mmrec import load_mmrec, parse, split_per_user, split_sizes, write_mmrec
from rawdata.movielens import genre_multi_hot, movie_sentence, numeric_order_ids, read_movies
from rawdata.synth.rec import generate


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("rec") / "standin", users=80, items=50, interactions=1600,
                    image_dim=24, text_dim=12, seed=3)


def small_frame(rows):
    return pd.DataFrame(rows, columns=["userID", "itemID", "rating", "timestamp", "x_label"])


def write_small(root, rows, n_items=3, dims=(4, 2)):
    features = {"image": np.ones((n_items, dims[0])), "text": np.ones((n_items, dims[1]))}
    return write_mmrec(root, "tiny", small_frame(rows), features)


def test_split_sizes_follow_8_1_1_with_one_held_out_item_each_from_three_interactions():
    train, valid, test = split_sizes(np.array([2, 3, 5, 10, 21]))
    assert train.tolist() == [2, 1, 3, 8, 17]
    assert valid.tolist() == [0, 1, 1, 1, 2]
    assert test.tolist() == [0, 1, 1, 1, 2]


def test_per_user_split_is_seeded_and_random_within_users():
    users = np.repeat(np.arange(30), 10)
    first, again, other = split_per_user(users, seed=5), split_per_user(users, seed=5), split_per_user(users, seed=6)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    for user in range(30):
        assert np.bincount(first[users == user], minlength=3).tolist() == [8, 1, 1]
    assert len({tuple(np.flatnonzero(first[users == u] == 2)) for u in range(30)}) > 1  # not always the same slot


def test_written_folder_parses_back(synth_root):
    data = load_mmrec(synth_root)
    summary = data.summary()
    assert summary["users"] == 80 and summary["items"] == 50 and summary["interactions"] == 1600
    assert summary["feature_dims"] == {"image": 24, "text": 12}
    assert data.standin
    assert layouts.parse("mmrec", synth_root).usable
    matrix = data.train_matrix("csr")
    assert matrix.shape == (80, 50) and int(matrix.values().sum()) == len(data.train_pairs)


def test_duplicate_pairs_are_reported_with_their_line(tmp_path):
    write_small(tmp_path, [(0, 0, 1, 1, 0), (0, 1, 1, 2, 1), (0, 2, 1, 3, 2), (0, 0, 1, 4, 2)])
    result = parse(tmp_path)
    assert not result.usable
    assert any(p.row == 5 and "more than once" in p.message for p in result.errors)
    with pytest.raises(DatasetError, match="more than once"):
        load_mmrec(tmp_path)


def test_bad_split_label_names_file_and_line(tmp_path):
    write_small(tmp_path, [(0, 0, 1, 1, 0), (0, 1, 1, 2, 7)])
    with pytest.raises(DatasetError, match=r"tiny\.inter.*line 3: x_label '7'"):
        load_mmrec(tmp_path)


def test_missing_or_short_feature_files_are_named(tmp_path):
    write_small(tmp_path, [(0, 0, 1, 1, 0), (0, 1, 1, 2, 1), (0, 2, 1, 3, 2)], n_items=2)
    with pytest.raises(DatasetError, match=r"image_feat\.npy.*2 rows but the interactions name item ids up to 2"):
        load_mmrec(tmp_path)
    (tmp_path / "text_feat.npy").unlink()
    assert any("text_feat.npy" in p.file for p in parse(tmp_path).errors)


def test_bpr_triples_are_seeded_and_negatives_avoid_training_items(synth_root):
    data = load_mmrec(synth_root)
    first = list(BPRTriples(data.train_pairs, data.n_items, 256, seed=1))
    again = list(BPRTriples(data.train_pairs, data.n_items, 256, seed=1))
    assert all(torch.equal(a["neg"], b["neg"]) for a, b in zip(first, again))
    train = set(map(tuple, data.train_pairs.tolist()))
    negatives = [(int(u), int(n)) for batch in first for u, n in zip(batch["user"], batch["neg"])]
    assert len(negatives) == len(data.train_pairs)
    assert not train.intersection(negatives)
    positives = torch.cat([torch.stack([b["user"], b["pos"]], 1) for b in first])
    assert sorted(map(tuple, positives.tolist())) == sorted(train)


def test_epochs_draw_new_batches(synth_root):
    triples = BPRTriples(load_mmrec(synth_root).train_pairs, 50, 4096, seed=1)
    epoch0, epoch1 = next(iter(triples)), next(iter(triples))
    assert not torch.equal(epoch0["neg"], epoch1["neg"])


def test_datamodule_exposes_matrices_and_held_out_dicts(synth_root):
    module = MMRecDataModule(synth_root, batch_size=128, train_batches="users")
    module.setup()
    info = module.info()
    assert info.train_matrix.layout == torch.sparse_coo and info.feature_dims == {"image": 24, "text": 12}
    batches = list(module.train_dataloader())
    assert sum(len(b["user"]) for b in batches) == len(np.unique(module.data.train_pairs[:, 0]))
    val_users = torch.cat([b["user"] for b in module.val_dataloader()])
    assert set(val_users.tolist()) == set(module.valid)


def test_synthetic_generator_records_parameters_and_feature_kinds(synth_root):
    meta = json.loads((synth_root / "SYNTHETIC.json").read_text())
    assert meta["parameters"]["users"] == 80 and meta["seed"] == 3
    truth = json.loads((synth_root / "ground_truth.json").read_text())
    assert len(truth["informative_dims"]["image"]) == 6  # 25% of 24
    data = load_mmrec(synth_root)
    text = data.features["text"]
    assert np.allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    assert (data.features["image"] >= 0).all()


def test_movie_text_and_genres():
    sentence = movie_sentence("Toy Story", "1995", ["Animation", "Comedy"])
    assert sentence == "Toy Story (1995). Genres: Animation, Comedy."
    assert movie_sentence("unkonwn", "", []) == "unkonwn."
    hot, names = genre_multi_hot(pd.Series([["Drama"], ["Comedy", "Drama"], []]))
    assert names == ["Comedy", "Drama"] and hot.tolist() == [[0, 1], [1, 1], [0, 0]]
    assert numeric_order_ids(pd.Series(["10", "2", "1", "2"])) == {"1": 0, "2": 1, "10": 2}


def test_recbole_ships_movielens_items():
    from rawdata.movielens import recbole_ml100k_folder

    movies = read_movies(recbole_ml100k_folder() / "ml-100k.item")
    assert len(movies) == 1682
    _, names = genre_multi_hot(movies["genres"])
    assert len(names) == 19


def top_decile_share(root) -> float:
    counts = np.sort(np.bincount(load_mmrec(root).train_pairs[:, 1], minlength=200))[::-1]
    return counts[:20].sum() / counts.sum()


def test_popularity_skew_concentrates_interactions_on_few_items(tmp_path):
    sizes = dict(users=200, items=200, interactions=2000, image_dim=8, text_dim=8, seed=0)
    skewed = top_decile_share(generate(tmp_path / "skewed", popularity_skew=0.8, **sizes))
    flat = top_decile_share(generate(tmp_path / "flat", popularity_skew=0.0, **sizes))
    assert skewed > 2 * 0.1 and skewed > 1.4 * flat


@pytest.mark.slow
def test_movielens_conversion_is_complete_and_cached(tmp_path):
    from rawdata.movielens import CONVERSION_FILE, ensure_movielens_mmrec

    out = ensure_movielens_mmrec(tmp_path / "movielens", seed=0)
    data = load_mmrec(out)
    summary = data.summary()
    assert (summary["users"], summary["items"], summary["interactions"]) == (943, 1682, 100000)
    assert summary["feature_dims"] == {"image": 19, "text": 384} and len(data.feature_names["image"]) == 19
    assert "SUBSTITUTION" in json.loads((out / CONVERSION_FILE).read_text())["image_feat"]
    written = (out / "text_feat.npy").stat().st_mtime_ns
    ensure_movielens_mmrec(out, seed=0)
    assert (out / "text_feat.npy").stat().st_mtime_ns == written  # same seed and split: nothing rewritten


def test_data_check_summarises_users_items_splits_and_features(synth_root):
    from rawdata.check import check_dataset, format_report

    report = check_dataset("mmrec", synth_root, images="none")
    assert report.usable and report.standin
    counts = report.interactions
    assert counts["users"] == 80 and counts["items"] == 50
    assert counts["train"] + counts["valid"] + counts["test"] == report.samples == 1600
    assert counts["features"] == {"image": "50 x 24", "text": "50 x 12"}
    text = format_report(report)
    assert "users: 80" in text and "image: 50 x 24" in text and "subjects" not in text
