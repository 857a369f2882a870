import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from core import metrics as M


def test_hand_computed_pooled_uf1_uar():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 2, 1]
    # class 0: tp=2 fp=0 fn=0 -> F1 1; class 1: tp=1 (idx 2) fp=1 (idx 4) fn=1 (idx 3) -> 2/4;
    # class 2: tp=0 fp=1 (idx 3) fn=1 (idx 4) -> 0.  Recall: 1, 1/2, 0.
    assert M.per_class_f1(y_true, y_pred, 3) == pytest.approx([1.0, 0.5, 0.0])
    assert M.uf1(y_true, y_pred, 3) == pytest.approx(0.5)
    assert M.uar(y_true, y_pred, 3) == pytest.approx((1 + 0.5 + 0) / 3)


def test_pooling_differs_from_fold_averaging():
    """UF1 pools TP/FP/FN over folds first: the mean of per-fold UF1 is a different (wrong) number."""
    fold_a = ([0, 0, 0, 1], [0, 0, 0, 0])
    fold_b = ([1, 1], [1, 1])
    pooled = M.uf1(fold_a[0] + fold_b[0], fold_a[1] + fold_b[1], 2)
    per_fold = np.mean([M.uf1(t, p, 2) for t, p in (fold_a, fold_b)])
    assert pooled == pytest.approx(((6 / 7) + (4 / 5)) / 2)
    assert abs(pooled - per_fold) > 0.01


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_scikit_learn_on_random_predictions(seed):
    rng = np.random.default_rng(seed)
    n_classes = 5
    y_true = rng.integers(0, n_classes, 200)
    y_pred = np.where(rng.random(200) < 0.4, y_true, rng.integers(0, n_classes, 200))
    assert M.uf1(y_true, y_pred, n_classes) == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert M.uar(y_true, y_pred, n_classes) == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert M.accuracy(y_true, y_pred) == pytest.approx((y_true == y_pred).mean())


def test_class_never_present_is_left_out_not_zero():
    # class 2 neither occurs nor is predicted: it has no F1 and must not drag the mean down
    assert M.uf1([0, 1], [0, 1], 3) == pytest.approx(1.0)
    # a class present in truth but never predicted counts with F1 = 0
    assert M.uf1([0, 1, 2], [0, 1, 1], 3) == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_labels_out_of_range_are_rejected():
    with pytest.raises(ValueError, match="outside"):
        M.uf1([0, 3], [0, 1], 3)


def test_topk_accuracy():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    assert M.topk_accuracy(scores, [2, 1], 1) == 0.0
    assert M.topk_accuracy(scores, [2, 1], 2) == 1.0


def test_au_f1_reports_missing_positives_instead_of_nan():
    au_true = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0]])
    au_pred = np.array([[1, 0, 1], [0, 1, 0], [0, 1, 0]])
    out = M.au_f1(au_true, au_pred, ["1", "2", "4"])
    assert out["au_f1"]["1"] == pytest.approx(2 / 3)
    assert out["au_f1"]["2"] == pytest.approx(1.0)
    assert out["au_f1"]["4"] is None and out["au_without_positives"] == ["4"]
    assert out["mean_au_f1"] == pytest.approx((2 / 3 + 1) / 2)
    floor = M.all_positive_au_f1(au_true, ["1", "2", "4"])
    assert floor["au_f1"]["1"] == pytest.approx(2 * 2 / (2 * 2 + 1))
