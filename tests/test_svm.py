"""The linear SVM layer reaches liblinear's optimum (LinearSVC: one-vs-rest, squared hinge, L2)."""

import numpy as np
import torch
from sklearn.svm import LinearSVC

from lightning_modules.layers.svm import LinearSVMHead, svm_objective


def test_lbfgs_with_a_short_history_reaches_the_liblinear_optimum():
    rng = np.random.default_rng(0)
    n, d, classes = 90, 300, 3
    y = rng.integers(0, classes, n)
    x = rng.random((n, d)) + 0.3 * np.eye(classes)[y].repeat(d // classes, axis=1)
    reference = LinearSVC(C=0.5, loss="squared_hinge", dual=True, tol=1e-10, max_iter=100000).fit(x, y)

    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    head = LinearSVMHead(d, classes)
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=300, history_size=10,
                                  tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = svm_objective(head, xt, yt, c=0.5, penalize_bias=True)
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    ours = float(svm_objective(head, xt, yt, c=0.5, penalize_bias=True))
    theirs_head = LinearSVMHead(d, classes)
    with torch.no_grad():
        theirs_head.linear.weight.copy_(torch.tensor(reference.coef_))
        theirs_head.linear.bias.copy_(torch.tensor(reference.intercept_))
    theirs = float(svm_objective(theirs_head, xt, yt, c=0.5, penalize_bias=True))
    assert ours <= theirs * (1 + 1e-3)
    np.testing.assert_array_equal(head(xt).argmax(1).numpy(), reference.predict(x))
