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


def test_majority_floor_of_a_report_is_the_floor_of_its_true_labels():
    """The floor read back from a report's confusion matrix equals the floor of the labels, whatever was predicted;
    class 1 is the majority (3 of 6), the class absent from the labels stays out of the mean."""
    y_true = [1, 0, 1, 2, 1, 0]
    names = ["a", "b", "c", "d"]
    for y_pred in ([0, 0, 0, 0, 0, 0], [1, 0, 2, 2, 3, 0]):
        floor = M.majority_floor_of_report(M.classification_report(y_true, y_pred, names))
        assert floor == M.majority_class_floor(y_true, names)
        assert floor["majority_class"] == "b"
        assert floor["majority_uf1"] == pytest.approx((2 * 0.5 / 1.5) / 3)


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


# ---------------------------------------------------------------- torchmetrics (what the LightningModules log)


def test_torchmetrics_logged_in_training_agree_with_the_pooled_metrics_module():
    """The modules log macro F1 / macro recall / macro multilabel F1 with torchmetrics (lightning_modules/layers/
    base.py); reported numbers come from core/metrics.py on pooled predictions. Updated fold by fold (as the
    predictions are pooled over LOSO folds), the two give the same UF1, UAR and mean AU F1, including a class that
    occurs neither in truth nor in prediction (left out of both means)."""
    import torch
    from torchmetrics.classification import MulticlassF1Score, MulticlassRecall, MultilabelF1Score

    rng = np.random.default_rng(3)
    n_classes, n_aus = 6, 5  # class 5 never occurs
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 5, 300))
    au_true = rng.random((300, n_aus)) < 0.3
    au_scores = np.clip(au_true * 0.6 + rng.random((300, n_aus)) * 0.5, 0, 1)
    f1 = MulticlassF1Score(n_classes, average="macro")
    recall = MulticlassRecall(n_classes, average="macro")
    au_f1 = MultilabelF1Score(n_aus, average="macro", threshold=0.5)
    for fold in np.array_split(np.arange(300), 12):  # one update per fold, as the pooled predictions are built
        f1.update(torch.from_numpy(y_pred[fold]), torch.from_numpy(y_true[fold]))
        recall.update(torch.from_numpy(y_pred[fold]), torch.from_numpy(y_true[fold]))
        au_f1.update(torch.from_numpy(au_scores[fold]).float(), torch.from_numpy(au_true[fold]).int())
    assert float(f1.compute()) == pytest.approx(M.uf1(y_true, y_pred, n_classes), abs=1e-6)
    assert float(recall.compute()) == pytest.approx(M.uar(y_true, y_pred, n_classes), abs=1e-6)
    names = [str(i) for i in range(n_aus)]
    assert float(au_f1.compute()) == pytest.approx(M.au_f1(au_true, au_scores >= 0.5, names)["mean_au_f1"], abs=1e-6)
