"""Evaluation metrics on hand-made labels and probabilities, checked against an independent count."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.core.evaluation import evaluation_report, output_to_probabilities

CLASSES = ["cat", "dog", "fox", "owl"]
# true label, and the probabilities the "model" gave (rows sum to 1)
ROWS = [
    (0, [0.70, 0.10, 0.10, 0.10]),  # right
    (0, [0.20, 0.50, 0.20, 0.10]),  # cat → dog (0.50)
    (0, [0.60, 0.30, 0.05, 0.05]),  # right
    (1, [0.05, 0.90, 0.03, 0.02]),  # right
    (1, [0.45, 0.40, 0.10, 0.05]),  # dog → cat (0.45), dog in top 2
    (2, [0.10, 0.05, 0.80, 0.05]),  # right
    (2, [0.02, 0.95, 0.02, 0.01]),  # fox → dog (0.95), fox only 3rd
    (2, [0.30, 0.05, 0.35, 0.30]),  # right
    (2, [0.25, 0.05, 0.10, 0.60]),  # fox → owl (0.60), fox 3rd
    (1, [0.10, 0.30, 0.00, 0.60]),  # dog → owl (0.60), dog 2nd
]
Y_TRUE = np.array([r[0] for r in ROWS])
PROBS = np.array([r[1] for r in ROWS])
IDS = [f"img_{i}.png" for i in range(len(ROWS))]


def _independent_counts():
    """Confusion matrix and predictions computed with plain Python loops."""
    predicted = [max(range(len(CLASSES)), key=lambda k: row[k]) for _, row in ROWS]
    confusion = [[0] * len(CLASSES) for _ in CLASSES]
    for (true, _), pred in zip(ROWS, predicted):
        confusion[true][pred] += 1
    return predicted, confusion


@pytest.fixture
def report():
    return evaluation_report(Y_TRUE, PROBS, CLASSES, IDS, top_k=2)


def test_accuracy_and_confusion_matrix(report):
    predicted, confusion = _independent_counts()
    correct = sum(p == t for p, (t, _) in zip(predicted, ROWS))
    assert report["num_samples"] == 10
    assert report["accuracy"] == pytest.approx(correct / 10) == pytest.approx(0.5)
    assert report["confusion_matrix"] == confusion
    assert report["confusion_matrix"][2][1] == 1  # the fox taken for a dog
    assert sum(map(sum, report["confusion_matrix"])) == 10
    assert report["num_misclassified"] == 10 - correct


def test_per_class_precision_recall_f1(report):
    _, confusion = _independent_counts()
    assert [c["class"] for c in report["per_class"]] == CLASSES
    f1s = []
    for k, row in enumerate(report["per_class"]):
        tp = confusion[k][k]
        predicted_k = sum(confusion[t][k] for t in range(len(CLASSES)))
        actual_k = sum(confusion[k])
        precision = tp / predicted_k if predicted_k else 0.0
        recall = tp / actual_k if actual_k else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        assert row["precision"] == pytest.approx(precision), CLASSES[k]
        assert row["recall"] == pytest.approx(recall), CLASSES[k]
        assert row["f1"] == pytest.approx(f1), CLASSES[k]
        assert row["support"] == actual_k
    # Spot checks by hand: 'owl' never occurs but is predicted twice; 'dog' is predicted 3 times, once right.
    owl, dog = report["per_class"][3], report["per_class"][1]
    assert owl["precision"] == 0.0 and owl["recall"] == 0.0 and owl["support"] == 0
    assert dog["precision"] == pytest.approx(1 / 3) and dog["recall"] == pytest.approx(1 / 3)
    assert report["macro_f1"] == pytest.approx(sum(f1s) / len(f1s))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_accuracy(k):
    result = evaluation_report(Y_TRUE, PROBS, CLASSES, top_k=k)
    hits = 0
    for true, row in ROWS:
        ranked = sorted(range(len(CLASSES)), key=lambda c: -row[c])
        hits += true in ranked[:k]
    assert result["top_k"] == k
    assert result["top_k_accuracy"] == pytest.approx(hits / len(ROWS))
    if k == 1:
        assert result["top_k_accuracy"] == pytest.approx(result["accuracy"])


def test_top_k_defaults_to_three_at_most():
    assert evaluation_report(Y_TRUE, PROBS, CLASSES)["top_k"] == 3
    two = evaluation_report(np.array([0, 1]), np.array([[0.9, 0.1], [0.3, 0.7]]), ["no", "yes"])
    assert two["top_k"] == 2 and two["top_k_accuracy"] == 1.0


def test_misclassified_sorted_by_confidence(report):
    wrong = report["misclassified"]
    expected = sorted(((max(row), i) for i, (true, row) in enumerate(ROWS)
                       if max(range(4), key=lambda c: row[c]) != true), reverse=True)
    assert [m["confidence"] for m in wrong] == pytest.approx([c for c, _ in expected])
    assert [m["confidence"] for m in wrong] == sorted((m["confidence"] for m in wrong), reverse=True)
    assert {m["index"] for m in wrong} == {i for _, i in expected}
    top = wrong[0]
    assert top == {"sample": "img_6.png", "index": 6, "true": "fox", "predicted": "dog", "confidence": 0.95}
    for m in wrong:
        assert m["true"] == CLASSES[Y_TRUE[m["index"]]]
        assert m["predicted"] != m["true"]
        assert m["sample"] == IDS[m["index"]]


def test_report_is_json_serialisable(report):
    assert json.loads(json.dumps(report)) == report


def test_empty_input_gives_an_empty_report():
    result = evaluation_report(np.zeros(0, int), np.zeros((0, 3)), ["a", "b", "c"])
    assert result["num_samples"] == 0 and result["misclassified"] == []
    assert result["confusion_matrix"] == [[0] * 3] * 3
    json.dumps(result)


def test_sigmoid_outputs_become_two_probabilities():
    probabilities = output_to_probabilities(np.array([[0.2], [0.9], [0.5]], np.float32), sigmoid=True)
    np.testing.assert_allclose(probabilities, [[0.8, 0.2], [0.1, 0.9], [0.5, 0.5]], atol=1e-7)
    result = evaluation_report(np.array([1, 1, 1]), probabilities, ["neg", "pos"])
    assert result["accuracy"] == pytest.approx(1 / 3)  # only the 0.9 is right; 0.5 ties go to "neg"


def test_softmax_outputs_pass_through():
    outputs = np.array([[0.1, 0.7, 0.2]], np.float32)
    np.testing.assert_allclose(output_to_probabilities(outputs, sigmoid=False), outputs)
