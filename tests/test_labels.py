"""Tests of synthscene.labels.annotate.annotate against the pixels and against pycocotools."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from synthscene.core.state import Camera, Material, RenderOutput, SceneObject, SceneState
from synthscene.labels.annotate import annotate

# pycocotools' decode trips a NumPy 2 deprecation inside its own Cython code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

H, W = 240, 320


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([1234, seed])))


def _object(instance_id: int, category: str = "thing", labelled: bool = True) -> SceneObject:
    return SceneObject(
        instance_id=instance_id,
        asset_key=f"asset_{instance_id}",
        category=category,
        scale=0.1,
        world_from_object=np.eye(4),
        material=Material(base_color=(0.5, 0.5, 0.5, 1.0)),
        labelled=labelled,
    )


def _frame(ids: np.ndarray, objects: list[SceneObject]) -> tuple[SceneState, RenderOutput]:
    height, width = ids.shape
    camera = Camera(
        K=np.array([[300.0, 0.0, width / 2], [0.0, 300.0, height / 2], [0.0, 0.0, 1.0]]),
        width=width,
        height=height,
        world_from_camera=np.eye(4),
    )
    state = SceneState(objects=tuple(objects), lights=(), camera=camera, ground=None)
    render = RenderOutput(
        rgb=np.zeros((height, width, 3), np.uint8),
        depth=np.zeros((height, width), np.float32),
        instance_ids=ids.astype(np.int32),
    )
    return state, render


def _pixel_bbox(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [
        float(xs.min()),
        float(ys.min()),
        float(xs.max() - xs.min() + 1),
        float(ys.max() - ys.min() + 1),
    ]


def _check_label(label, ids: np.ndarray) -> np.ndarray:
    """Check one label against the id image and pycocotools; return its decoded mask."""
    truth = ids == label.instance_id
    rle = {
        "size": label.segmentation["size"],
        "counts": label.segmentation["counts"].encode("ascii"),
    }
    assert isinstance(label.segmentation["counts"], str)
    assert label.segmentation["size"] == [ids.shape[0], ids.shape[1]]
    decoded = mask_utils.decode(rle)
    assert decoded.shape == ids.shape
    np.testing.assert_array_equal(decoded.astype(bool), truth)
    # Byte-identical to what pycocotools makes from the true mask.
    reference = mask_utils.encode(np.asfortranarray(truth.astype(np.uint8)))
    assert rle["counts"] == reference["counts"]
    assert isinstance(label.bbox, tuple) and all(type(v) is float for v in label.bbox)
    assert list(label.bbox) == mask_utils.toBbox(rle).tolist()
    assert list(label.bbox) == _pixel_bbox(truth)
    assert type(label.area) is int
    assert label.area == int(truth.sum()) == int(mask_utils.area(rle))
    return decoded


def _handmade_ids() -> np.ndarray:
    ids = np.zeros((H, W), np.int32)
    ids[20:80, 30:90] = 1  # square with a hole
    ids[40:60, 50:70] = 0
    ids[100:110, 10:20] = 300  # two disconnected parts
    ids[200:230, 250:300] = 300
    ids[0:15, 0:25] = 70000  # touches the top-left corner (pixel 0 is in the mask)
    ids[:, 150:153] = 12  # full-height columns: runs cross column boundaries
    ids[H - 10 :, W - 12 :] = 7  # touches the bottom-right corner (last pixel in the mask)
    ids[120:140, 100:140] = 5  # distractor
    ids[150:160, 180:200] = 999  # id of no object
    ids[160:170, 180:200] = -3  # garbage id
    noise = _rng(0).random((H, W)) < 0.02
    ids[noise & (ids == 0)] = 42  # scattered single pixels
    return ids


def test_handmade_masks_match_pixels_and_pycocotools():
    ids = _handmade_ids()
    objects = [_object(i, f"cat{i}") for i in (1, 300, 70000, 12, 7, 42)]
    objects.append(_object(5, "distractor", labelled=False))
    state, render = _frame(ids, objects)

    labels = annotate(state, render)

    assert [lab.instance_id for lab in labels] == [1, 7, 12, 42, 300, 70000]
    for label in labels:
        _check_label(label, ids)
        assert label.category == f"cat{label.instance_id}"
    by_id = {lab.instance_id: lab for lab in labels}
    assert by_id[70000].bbox == (0.0, 0.0, 25.0, 15.0)
    assert by_id[7].bbox == (float(W - 12), float(H - 10), 12.0, 10.0)
    assert by_id[12].bbox == (150.0, 0.0, 3.0, float(H))
    assert by_id[1].area == 60 * 60 - 20 * 20


@pytest.mark.parametrize("seed", range(8))
def test_random_id_images(seed):
    rng = _rng(seed + 1)
    height, width = (H, W) if seed % 2 == 0 else (W // 2, H)  # also tall and odd sizes
    pool = np.unique(rng.integers(1000, 2**31 - 1, size=12, dtype=np.int64))
    pool[:3] = [300, 70000, 2**31 - 1]  # ids > 255, > 65535 and the largest int32
    # Random rectangles painted over each other (occlusion), plus per-pixel speckle.
    ids = np.zeros((height, width), np.int32)
    for _ in range(40):
        y0, x0 = rng.integers(0, height), rng.integers(0, width)
        ids[y0 : y0 + rng.integers(1, height // 2), x0 : x0 + rng.integers(1, width // 2)] = (
            rng.choice(pool)
        )
    speckle = rng.random((height, width)) < 0.05
    ids[speckle] = rng.choice(pool, size=int(speckle.sum()))
    labelled_ids = [int(v) for v in pool[:8]]
    distractor_ids = [int(v) for v in pool[8:10]]  # pool[10:] are unknown ids
    objects = [_object(i, "a" if i % 2 else "b") for i in labelled_ids]
    objects += [_object(i, "d", labelled=False) for i in distractor_ids]
    objects.append(_object(123456789))  # labelled but never drawn
    state, render = _frame(ids, objects)

    labels = annotate(state, render)

    expected = sorted(i for i in labelled_ids if (ids == i).any())
    assert {300, 70000, 2**31 - 1} <= set(expected)
    assert [lab.instance_id for lab in labels] == expected
    union = np.zeros((height, width), np.int32)
    for label in labels:
        union += _check_label(label, ids)
    assert union.max() <= 1  # masks never overlap
    outside = ~np.isin(ids, labelled_ids)
    assert not union[outside].any()  # distractor / unknown / background pixels in no mask


def test_hidden_object_and_distractor_get_no_label():
    ids = np.zeros((H, W), np.int32)
    ids[10:50, 10:50] = 3
    ids[30:70, 30:70] = 4  # distractor, partly over 3
    state, render = _frame(ids, [_object(3), _object(4, labelled=False), _object(9)])

    labels = annotate(state, render)

    assert [lab.instance_id for lab in labels] == [3]
    decoded = _check_label(labels[0], ids)
    assert not decoded[ids == 4].any()


def test_whole_image_one_instance():
    ids = np.full((H, W), 256, np.int32)
    state, render = _frame(ids, [_object(256)])
    (label,) = annotate(state, render)
    _check_label(label, ids)
    assert label.bbox == (0.0, 0.0, float(W), float(H))
    assert label.area == H * W


def test_single_pixel_instances_at_corners():
    ids = np.zeros((H, W), np.int32)
    ids[0, 0], ids[0, W - 1], ids[H - 1, 0], ids[H - 1, W - 1] = 1, 2, 3, 4
    state, render = _frame(ids, [_object(i) for i in (1, 2, 3, 4)])
    labels = annotate(state, render)
    assert len(labels) == 4
    for label in labels:
        _check_label(label, ids)
        assert label.area == 1


def test_nothing_to_label():
    ids = np.zeros((H, W), np.int32)
    ids[5:9, 5:9] = 2
    assert annotate(*_frame(ids, [])) == ()
    assert annotate(*_frame(ids, [_object(2, labelled=False)])) == ()
    assert annotate(*_frame(np.zeros((H, W), np.int32), [_object(2)])) == ()


def test_does_not_modify_input():
    ids = _handmade_ids()
    state, render = _frame(ids, [_object(1), _object(300)])
    before = render.instance_ids.copy()
    annotate(state, render)
    np.testing.assert_array_equal(render.instance_ids, before)


def test_bad_input_raises():
    ids = np.zeros((H, W), np.int32)
    state, render = _frame(ids, [_object(1)])
    wrong_shape = RenderOutput(render.rgb, render.depth, np.zeros((W, H), np.int32))
    with pytest.raises(ValueError, match="shape"):
        annotate(state, wrong_shape)
    with pytest.raises(ValueError, match="share"):
        annotate(*_frame(ids, [_object(1), _object(1, labelled=False)]))
    with pytest.raises(ValueError, match=">= 1"):
        annotate(*_frame(ids, [_object(0)]))
