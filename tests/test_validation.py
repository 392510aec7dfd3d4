"""Bad input is refused early, with a message naming the parameter (item 6).

Every case below must raise ValueError (TypeError for a wrong type) whose
message names the offending parameter, and must do so *before* any solver
starts: the ``no_solver`` fixture replaces the engine factory by one that
fails the test if it is ever called.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import qbhelpers as qb

T = np.linspace(0.0, 1.0, 5)

# (call, exception type(s), regex the message must match)
BAD_INPUT = {
    # n_qubits
    "n_qubits=0": (lambda: qb.first_max(0), ValueError, r"n_qubits"),
    "n_qubits=-1": (lambda: qb.first_max(-1), ValueError, r"n_qubits"),
    "n_qubits=2.5": (lambda: qb.first_max(2.5), (TypeError, ValueError), r"n_qubits"),
    "n_qubits='3'": (lambda: qb.first_max("3"), TypeError, r"n_qubits"),
    "n_qubits=11-full": (lambda: qb.first_max(11, method="full"), ValueError,
                         r"n_qubits.*full"),
    "n_qubits=65-dicke": (lambda: qb.first_max(65, method="dicke"), ValueError,
                          r"n_qubits.*dicke"),
    "n_qubits=5000-blocks": (lambda: qb.first_max(5000), ValueError, r"n_qubits.*blocks"),
    "n_qubits=0-charge": (lambda: qb.charge(0, times=T), ValueError, r"n_qubits"),
    "n_qubits=11-full-charge": (lambda: qb.charge(11, method="full", times=T), ValueError,
                                r"n_qubits"),
    # kappa
    "kappa=-1": (lambda: qb.first_max(1, "fock", -1.0), ValueError, r"kappa"),
    "kappa=nan": (lambda: qb.first_max(1, "fock", math.nan), ValueError, r"kappa"),
    "kappa=inf": (lambda: qb.first_max(1, "fock", math.inf), ValueError, r"kappa"),
    "kappa='0.5'": (lambda: qb.first_max(1, "fock", "0.5"), TypeError, r"kappa"),
    "kappa=-1-charge": (lambda: qb.charge(1, "fock", -1.0, times=T), ValueError, r"kappa"),
    # g
    "g=0": (lambda: qb.first_max(1, g=0.0), ValueError, r"\bg\b"),
    "g=-1": (lambda: qb.first_max(1, g=-1.0), ValueError, r"\bg\b"),
    "g=nan": (lambda: qb.first_max(1, g=math.nan), ValueError, r"\bg\b"),
    "g=0-charge": (lambda: qb.charge(1, g=0.0, times=T), ValueError, r"\bg\b"),
    # n_th
    "n_th=-0.1": (lambda: qb.first_max(1, n_th=-0.1), ValueError, r"n_th"),
    "n_th=inf": (lambda: qb.first_max(1, n_th=math.inf), ValueError, r"n_th"),
    "n_th=-0.1-charge": (lambda: qb.charge(1, n_th=-0.1, times=T), ValueError, r"n_th"),
    # choices
    "charger=squeezed": (lambda: qb.first_max(1, "squeezed"), ValueError, r"charger"),
    "charger=squeezed-charge": (lambda: qb.charge(1, "squeezed", times=T), ValueError,
                                r"charger"),
    "version=series": (lambda: qb.first_max(2, version="series"), ValueError, r"version"),
    "method=exact": (lambda: qb.first_max(1, method="exact"), ValueError, r"method"),
    "method=exact-charge": (lambda: qb.charge(1, method="exact", times=T), ValueError,
                            r"method"),
    "method=exact-enhancement": (lambda: qb.enhancement(2, method="exact"), ValueError,
                                 r"method"),
    # mean photon number
    "fock-mean=2.5": (lambda: qb.first_max(1, "fock", mean_photons=2.5), ValueError,
                      r"mean_photons"),
    "fock-mean=-1": (lambda: qb.first_max(1, "fock", mean_photons=-1), ValueError,
                     r"mean_photons"),
    "coherent-mean=-1": (lambda: qb.charge(1, "coherent", mean_photons=-1.0, times=T),
                         ValueError, r"mean_photons"),
    "parallel-fock-4-over-3": (lambda: qb.first_max(3, "fock", version="parallel",
                                                    mean_photons=4),
                               ValueError, r"mean_photons.*divisible.*n_qubits"),
    # times
    "times-not-from-0": (lambda: qb.charge(1, times=[0.1, 0.5, 1.0]), ValueError, r"times"),
    "times-not-increasing": (lambda: qb.charge(1, times=[0.0, 1.0, 0.5]), ValueError,
                             r"times"),
    "times-repeated": (lambda: qb.charge(1, times=[0.0, 0.5, 0.5]), ValueError, r"times"),
    "times-2d": (lambda: qb.charge(1, times=[[0.0, 0.5], [1.0, 1.5]]), ValueError, r"times"),
    "times-nan": (lambda: qb.charge(1, times=[0.0, math.nan]), ValueError, r"times"),
    "times-single": (lambda: qb.charge(1, times=[0.0]), ValueError, r"times"),
    # truncation
    "n_cut=-1": (lambda: qb.charge(1, "fock", n_cut=-1, times=T), ValueError, r"n_cut"),
    "n_cut=2.5": (lambda: qb.charge(1, "fock", n_cut=2.5, times=T), (TypeError, ValueError),
                  r"n_cut"),
    "n_cut=-1-first_max": (lambda: qb.first_max(1, "fock", n_cut=-1), ValueError, r"n_cut"),
    "n_cut-fock-too-small": (lambda: qb.first_max(3, "fock", n_cut=2), ValueError,
                             r"n_cut.*too small"),
    # solver tolerances: options of the methods that use them
    "rtol=0": (lambda: qb.first_max(1, method=qb.engines.RungeKutta(rtol=0.0)), ValueError,
               r"rtol"),
    "atol=0.5": (lambda: qb.first_max(1, method=qb.engines.QutipDicke(atol=0.5)), ValueError,
                 r"atol"),
    "method=object": (lambda: qb.first_max(1, method=object()), ValueError, r"method"),
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input_is_refused_before_any_solver_runs(name, no_solver):
    call, exc, pattern = BAD_INPUT[name]
    with pytest.raises(exc, match=pattern):
        call()


def test_bool_is_not_a_number_of_qubits(no_solver):
    """Regression (fixed in 9388607): True was re-accepted as an integer-valued real."""
    with pytest.raises(TypeError, match=r"n_qubits"):
        qb.first_max(True)


def test_bool_is_not_a_real_parameter(no_solver):
    with pytest.raises(TypeError, match=r"kappa"):
        qb.first_max(1, "fock", True)
    with pytest.raises(TypeError, match=r"n_cut"):
        qb.first_max(1, "fock", n_cut=True)


def test_coherent_n_cut_too_small_says_what_is_needed(no_solver):
    with pytest.raises(ValueError, match=r"n_cut") as info:
        qb.charge(2, "coherent", n_cut=3)
    needed = re.search(r"n_cut >= (\d+)", str(info.value))
    assert needed, f"the message does not say which n_cut is needed: {info.value}"
    assert int(needed.group(1)) == qb.required_n_cut("coherent", 2.0)


def test_the_n_cut_the_message_asks_for_is_enough():
    """The suggested n_cut works and reproduces the automatic choice; one less fails."""
    need = qb.required_n_cut("coherent", 2.0)
    auto = qb.first_max(2, "coherent")
    assert auto.n_cut == need
    given = qb.first_max(2, "coherent", n_cut=need)
    assert given.n_cut == need
    assert given.energy == auto.energy and given.tau == auto.tau
    with pytest.raises(ValueError, match=rf"n_cut={need - 1} is too small"):
        qb.first_max(2, "coherent", n_cut=need - 1)


@pytest.mark.parametrize("call", [
    lambda: qb.charge(1, "fock", 1.0, n_th=0.5, n_cut=1, times=np.linspace(0.0, 3.0, 7)),
    lambda: qb.first_max(1, "fock", 1.0, n_th=0.5, n_cut=1),
    lambda: qb.charge(2, "fock", 0.5, n_th=0.3, n_cut=3, times=np.linspace(0.0, 3.0, 7),
                      method="dicke"),
], ids=["charge", "first_max", "charge-dicke"])
def test_warm_bath_overfilling_a_user_n_cut_is_an_error(call):
    """At n_th > 0 the bath adds photons; a user n_cut that passes the initial
    check but gets filled up is caught after the run, never returned."""
    with pytest.raises(ValueError, match=r"n_cut=\d+ is too small for n_th"):
        call()


@pytest.mark.parametrize("charger", ["fock", "coherent", "thermal"])
def test_empty_charger_has_no_first_maximum(charger, no_solver):
    assert issubclass(qb.NoMaximumError, ValueError)
    with pytest.raises(qb.NoMaximumError, match=r"empty"):
        qb.first_max(1, charger, 0.5, mean_photons=0)
    with pytest.raises(qb.NoMaximumError):
        qb.first_max(3, charger, 0.0, mean_photons=0.0)


def test_integer_valued_floats_are_accepted_for_n_qubits():
    assert qb.first_max(2.0, "fock").n_qubits == 2
    assert qb.first_max(np.int64(2), "fock").energy == qb.first_max(2, "fock").energy
