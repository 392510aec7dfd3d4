"""The engine layer's contract, checked for every registered engine.

Every method in ``qbhelpers.engines.REGISTRY`` must build an engine that
implements the interface of :class:`qbhelpers.engines.base.Engine` with typed
results: a trajectory (:class:`Samples`), chunks that tile time and evaluate
the observables anywhere inside them (:class:`Chunk`), and the first
extremum (:class:`Extremum`), for charging and for discharging.  The numbers
are checked against the closed forms of the one-qubit, one-photon battery at
κ = 0 (SPEC §5): τ̄ = π/2, Ē = ℰ̄ = 1, E_h(t) = sin²(gt).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import qbhelpers as qb
from conftest import TOL
from qbhelpers.engines import (REGISTRY, Chunk, Engine, Estimate, Extremum, Measurement, Method,
                               Samples, Setup)
from qbhelpers.problem import make_setup

METHODS = tuple(REGISTRY)


def test_registry_lists_every_engine_once_and_derives_the_public_lists():
    assert METHODS == qb.engines.METHODS
    assert METHODS[0] == "blocks"  # the production method comes first
    assert set(METHODS) == {"blocks", "blocks-rk", "dicke", "full"}
    assert qb.engines.MAX_QUBITS == {m: REGISTRY[m].max_qubits for m in METHODS}


def test_a_second_method_with_a_taken_name_is_refused():
    with pytest.raises(TypeError, match="already registered"):
        @dataclasses.dataclass(frozen=True)
        class Duplicate(qb.engines.Chebyshev):
            name = "blocks"


@pytest.mark.parametrize("name", METHODS)
def test_method_objects(name):
    cls = REGISTRY[name]
    m = cls()
    assert isinstance(m, Method) and m.name == name
    assert isinstance(cls.max_qubits, int) and cls.max_qubits >= 4
    assert isinstance(cls.summary, str) and cls.summary
    assert m == cls() and hash(m) == hash(cls())  # frozen, usable as a cache key
    setup = make_setup(2, "fock", 0.5, method=m)
    assert setup.method is m
    assert isinstance(m.state_size(setup), int) and m.state_size(setup) > 0
    # a name selects the default options
    assert make_setup(2, "fock", 0.5, method=name).method == m


@pytest.mark.parametrize("name", METHODS)
def test_every_method_estimates_its_cost_before_running(name, no_solver):
    """Method.estimate (abstract in engines/base.py) answers from sizes and
    spectral bounds alone (no engine is built: ``no_solver``), and its memory
    and work grow with what they should: the time span, the number of qubits,
    the sectors a coherent charger needs, a discharge's holder."""
    m = REGISTRY[name]()
    small = make_setup(2, "fock", 0.5, method=m)
    est = m.estimate(small, 1.0)
    assert isinstance(est, Estimate)
    assert est.memory > 0 and est.work > 0 and est.seconds > 0
    assert isinstance(est.work_unit, str) and est.work_unit
    longer = m.estimate(small, 100.0)
    assert longer.work > 10 * est.work and longer.seconds > 10 * est.seconds
    assert longer.memory == est.memory  # memory does not grow with time
    bigger = make_setup(4, "fock", 0.5, method=m)
    assert m.estimate(bigger, 1.0).memory > est.memory
    coherent = make_setup(2, "coherent", 0.5, method=m)
    assert m.estimate(coherent, 1.0, with_charger=True).work >= m.estimate(coherent, 1.0).work
    holder = np.diag([0.0, 0.0, 1.0]).astype(complex)
    assert m.estimate(small, 1.0, holder).seconds > 0


@pytest.mark.parametrize("name", METHODS)
def test_charging_engine_contract(name):
    setup = make_setup(1, "fock", 0.0, method=name)
    engine = setup.method.engine(setup)
    assert isinstance(engine, Engine) and engine.setup is setup and engine.holder is None
    assert engine.excitations == 1.0

    t = np.linspace(0.0, 2.0, 9)
    s = engine.trajectory(t)
    assert isinstance(s, Samples)
    for f in ("E_h", "E_c", "Q", "top", "ergotropy"):
        assert getattr(s, f).shape == t.shape, f
    assert s.holder_states.shape == (t.size, 2, 2) and s.charger_states is None
    np.testing.assert_allclose(s.E_h, np.sin(t) ** 2, rtol=0, atol=TOL)
    np.testing.assert_allclose(s.E_h + s.E_c + s.Q, 1.0, rtol=0, atol=TOL)
    np.testing.assert_allclose(s.ergotropy, np.maximum(0.0, 1 - 2 * np.cos(t) ** 2),
                               rtol=0, atol=TOL)
    with_c = engine.trajectory(t, with_charger=True)
    assert with_c.charger_states.shape == (t.size, 2, 2)

    chunks = []
    for c in engine.chunks():
        chunks.append(c)
        if c.t1 > 1.0 or len(chunks) > 500:
            break
    assert all(isinstance(c, Chunk) for c in chunks)
    assert chunks[0].t0 == 0.0
    for a, b in zip(chunks, chunks[1:]):
        assert b.t0 == pytest.approx(a.t1, rel=1e-14)  # they tile time
    c = chunks[-1]
    assert np.all((c.sample_times > c.t0) & (c.sample_times <= c.t1 * (1 + 1e-15)))
    assert len(c.sample_dE) == len(c.sample_times)
    mid = 0.5 * (c.t0 + c.t1)
    m = c.measure(mid)
    assert isinstance(m, Measurement)
    assert m.E_h == pytest.approx(math.sin(mid) ** 2, abs=TOL)
    assert c.derivative(mid) == pytest.approx(math.sin(2 * mid), abs=TOL)  # dE_h/dt

    x = engine.first_extremum("max")
    assert isinstance(x, Extremum)
    assert x.tau == pytest.approx(math.pi / 2, rel=TOL)
    assert x.E_h == pytest.approx(1.0, abs=TOL) and x.ergotropy == pytest.approx(1.0, abs=TOL)
    assert x.holder_state.shape == (2, 2)


@pytest.mark.parametrize("name", METHODS)
def test_discharging_engine_contract(name):
    """The excited qubit into an empty, lossless cavity: E_h(t) = cos²(gt),
    first minimum at π/2 where everything sits in the charger."""
    setup = dataclasses.replace(make_setup(1, "fock", 0.0, method=name), mean_photons=0.0)
    excited = np.array([[0.0, 0.0], [0.0, 1.0]], dtype=complex)
    engine = setup.method.engine(setup, excited)
    assert engine.excitations == pytest.approx(1.0)
    t = np.linspace(0.0, 2.0, 9)
    s = engine.trajectory(t)
    np.testing.assert_allclose(s.E_h, np.cos(t) ** 2, rtol=0, atol=TOL)
    x = engine.first_extremum("min")
    assert x.tau == pytest.approx(math.pi / 2, rel=TOL)
    assert x.E_h == pytest.approx(0.0, abs=TOL) and x.E_c == pytest.approx(1.0, abs=TOL)


@pytest.mark.parametrize("name", METHODS)
def test_setup_is_the_one_parameter_record_of_every_result(name):
    fm = qb.first_max(2, "coherent", 0.5, method=name)
    tr = qb.charge(2, "coherent", 0.5, method=name, times=[0.0, 0.5])
    for r in (fm, tr):
        assert isinstance(r.setup, Setup)
        assert (r.n_qubits, r.charger, r.kappa, r.g, r.n_th, r.mean_photons, r.method) == \
            (2, "coherent", 0.5, 1.0, 0.0, 2.0, name)
        assert r.n_cut == r.setup.n_cut == qb.required_n_cut("coherent", 2.0)
