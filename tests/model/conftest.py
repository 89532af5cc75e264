"""The model tests' shared harness: ``run_layer_test``, in the spirit of Keras's own."""

import keras
import numpy as np
import pytest


def _arrays(outputs) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(a) for a in keras.tree.flatten(outputs)]


def _wrapped(obj, inputs, call):
    """A model to save around ``obj``: itself, a functional model or a Dense constrained by it."""
    if isinstance(obj, keras.Model):
        return obj
    if isinstance(obj, keras.layers.Layer):
        symbolic = keras.tree.map_structure(
            lambda a: keras.Input(a.shape[1:], dtype=str(a.dtype)), inputs
        )
        return keras.Model(symbolic, call(obj, symbolic))
    dense = keras.layers.Dense(inputs.shape[-1], kernel_constraint=obj, name="constrained")
    return keras.Sequential([keras.Input(inputs.shape[1:]), dense])


def _applied(model, obj, inputs, call):
    """What a loaded model gives: the call (a model), the model (a layer), its constraint."""
    if isinstance(obj, keras.Model):
        return _arrays(call(model, inputs))
    if isinstance(obj, keras.layers.Layer):
        return _arrays(model(inputs))
    return _arrays(model.get_layer("constrained").kernel_constraint(inputs))


def layer_test(
    cls,
    kwargs: dict,
    inputs,
    *,
    bad: dict,
    folder,
    call=None,
    setup=None,
    shapes=None,
):
    """Construct, call, config round trips, a .keras round trip at a fixed seed, bad arguments.

    Args:
        cls: A custom layer, model or constraint class.
        kwargs: The constructor's arguments, each of which ``get_config`` must hold.
        inputs: The call's batch input(s), NumPy arrays.
        bad: Argument → a value the constructor refuses, naming the argument.
        folder: Where the .keras file goes.
        call: ``call(obj, inputs)``, the call to test (default ``obj(inputs)``);
            anything else it needs (the prior's parameters) it holds itself.
        setup: ``setup(obj)`` after construction (weights a test sets).
        shapes: The output shapes, flattened (default: ``compute_output_shape``'s
            for a plain call).

    Returns:
        The object built, after the checks.
    """
    plain, call = call is None, call or (lambda obj, x: obj(x))
    keras.utils.set_random_seed(0)
    obj = cls(**kwargs)
    if setup:
        setup(obj)
    outputs = _arrays(call(obj, inputs))
    assert all(np.isfinite(a).all() for a in outputs)
    if shapes is None and plain and hasattr(obj, "compute_output_shape"):
        shapes = keras.tree.flatten(
            obj.compute_output_shape(keras.tree.map_structure(lambda a: a.shape, inputs)),
        )
        shapes = [tuple(shapes)] if isinstance(shapes[0], int | None) else shapes
    if shapes is not None:
        assert [a.shape for a in outputs] == [tuple(s) for s in shapes]

    config = obj.get_config()
    assert set(kwargs) <= set(config), f"get_config lacks {set(kwargs) - set(config)}"
    again = cls.from_config(config)
    assert again.get_config() == config
    rebuilt = cls(**{key: config[key] for key in kwargs}).get_config()
    assert {**rebuilt, "name": None} == {**config, "name": None}  # names are numbered

    model = _wrapped(obj, inputs, call)
    path = folder / f"{cls.__name__}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    # A loaded layer draws from its seed again: its first outputs are the first ones above.
    for a, b in zip(outputs, _applied(loaded, obj, inputs, call), strict=True):
        np.testing.assert_array_equal(a, b)

    for name, value in bad.items():
        with pytest.raises((ValueError, TypeError), match=name):
            cls(**{**kwargs, name: value})
    return obj


@pytest.fixture
def run_layer_test(tmp_path):
    """``run_layer_test(cls, kwargs, inputs, bad=…, call=…, setup=…, shapes=…)``."""

    def run(cls, kwargs, inputs, **options):
        return layer_test(cls, kwargs, inputs, folder=tmp_path, **options)

    return run
