"""The one-cycle learning-rate schedule: a warm-up from 1/25 of the rate to the rate over the first
quarter of a phase's steps, then a cosine decay to nearly zero, set at every step and continued where a
resumed run stopped."""

from __future__ import annotations

import types

import numpy as np
import pytest

from workbench.core.training.callbacks import OneCycle, learning_rate_callbacks


def test_the_rate_rises_to_its_peak_then_falls_to_nearly_zero():
    cycle = OneCycle(0.006, epochs=3)
    total = 300
    rates = np.array([cycle.rate(step, total) for step in range(total)])
    assert rates[0] == pytest.approx(0.006 / 25)
    peak = int(np.argmax(rates))
    assert peak == 75 and rates[peak] == pytest.approx(0.006)
    assert np.all(np.diff(rates[:peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    assert rates[-1] < 0.006 / 1000


def fake_model():
    import keras

    return types.SimpleNamespace(optimizer=types.SimpleNamespace(learning_rate=keras.Variable(1.0)))


def test_every_step_sets_the_optimizer_rate_and_a_resumed_phase_continues_the_curve():
    (cycle,) = learning_rate_callbacks("one_cycle", 0.01, epochs=4, first_epoch=2)
    model = fake_model()
    cycle.set_model(model)
    cycle.set_params({"steps": 10, "epochs": 6})
    seen = []
    for epoch in (3, 4):  # resumed at the phase's second epoch: steps 10..29 of 40
        cycle.on_epoch_begin(epoch)
        for batch in range(10):
            cycle.on_train_batch_begin(batch)
            seen.append(float(model.optimizer.learning_rate.numpy()))
    expected = [cycle.rate(step, 40) for step in range(10, 30)]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    assert max(seen) == pytest.approx(0.01)  # the peak (step 10) falls in the resumed part
