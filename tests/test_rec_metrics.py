"""Full-ranking top-K with training-item masking and Recall@K / NDCG@K against hand-computed values."""

import math

import pytest
import torch

from core.ranking import csr_row_entries, full_ranking_topk, recall_ndcg_at_k


def sparse(pairs, shape):
    index = torch.tensor(pairs, dtype=torch.long).T
    return torch.sparse_coo_tensor(index, torch.ones(index.shape[1]), shape, check_invariants=True).coalesce()


def test_recall_and_ndcg_match_hand_computation():
    topk = torch.tensor([[1, 2, 4], [3, 2, 1]])
    truth = [[2, 3], [0]]
    metrics = recall_ndcg_at_k(topk, truth, ks=(1, 3))
    # user 0: one hit (item 2) at rank 1 of 3 -> recall 1/2, DCG 1/log2(3), IDCG 1 + 1/log2(3); user 1: no hit.
    assert metrics["recall@1"] == 0.0
    assert metrics["recall@3"] == pytest.approx((0.5 + 0.0) / 2)
    dcg = 1 / math.log2(3)
    assert metrics["ndcg@3"] == pytest.approx((dcg / (1 + dcg) + 0.0) / 2)
    assert metrics["n_users"] == 2


def test_idcg_uses_at_most_k_relevant_items_and_users_without_truth_are_skipped():
    topk = torch.tensor([[5, 6, 7], [0, 1, 2], [9, 8, 7]])
    truth = [[5, 6, 7, 8, 9], [], [1]]  # user 1 has no held-out items: left out of the mean
    metrics = recall_ndcg_at_k(topk, truth, ks=(2,))
    # user 0: two hits in the top 2 of 5 relevant -> recall 2/5, NDCG 1 (IDCG over min(2, 5) = 2 items)
    # user 2: item 1 not ranked -> 0
    assert metrics["n_users"] == 2
    assert metrics["recall@2"] == pytest.approx((2 / 5 + 0) / 2)
    assert metrics["ndcg@2"] == pytest.approx((1.0 + 0) / 2)


def test_single_relevant_item_ndcg_depends_on_its_rank_only():
    topk = torch.tensor([[4, 0, 1, 2, 3]])
    metrics = recall_ndcg_at_k(topk, [[0]], ks=(1, 5))
    assert metrics["ndcg@1"] == 0.0
    assert metrics["ndcg@5"] == pytest.approx(1 / math.log2(3))
    assert metrics["recall@5"] == 1.0


def test_lists_shorter_than_k_rank_a_whole_small_catalogue():
    topk = torch.tensor([[2, 0, 1]])  # a 3-item catalogue, fully ranked
    metrics = recall_ndcg_at_k(topk, [[1, 2]], ks=(3, 5))
    assert metrics["recall@5"] == metrics["recall@3"] == 1.0
    ideal = 1 + 1 / math.log2(3)
    assert metrics["ndcg@5"] == pytest.approx((1 + 1 / math.log2(4)) / ideal)


def test_full_ranking_masks_training_items_only():
    scores = torch.tensor([[9.0, 8.0, 7.0, 6.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    train = sparse([(0, 0), (0, 1), (1, 4)], (2, 5))
    topk = full_ranking_topk(lambda users: scores[users], train, torch.tensor([0, 1]), k=3)
    # user 0's best items 0 and 1 are training items; item 2 (a validation item, say) stays a candidate.
    assert topk.tolist() == [[2, 3, 4], [3, 2, 1]]


def test_chunked_ranking_equals_one_chunk():
    generator = torch.Generator().manual_seed(0)
    scores = torch.rand(37, 23, generator=generator)
    pairs = [(u, int(i)) for u in range(37) for i in torch.randperm(23, generator=generator)[: u % 5]]
    train = sparse(pairs, (37, 23))
    users = torch.arange(37)
    whole = full_ranking_topk(lambda u: scores[u], train, users, k=10, chunk_size=100)
    chunked = full_ranking_topk(lambda u: scores[u], train, users, k=10, chunk_size=4)
    assert torch.equal(whole, chunked)
    for user, item in pairs:
        assert item not in whole[user].tolist()


def test_csr_row_entries_returns_each_selected_rows_columns():
    matrix = sparse([(0, 1), (0, 3), (2, 0), (3, 2), (3, 3)], (4, 4)).to_sparse_csr()
    positions, columns = csr_row_entries(matrix, torch.tensor([3, 0, 1]))
    assert sorted(zip(positions.tolist(), columns.tolist())) == [(0, 2), (0, 3), (1, 1), (1, 3)]
