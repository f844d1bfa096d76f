"""The lean colour pass against pyrender's own forward pass (needs GL)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from conftest import cube, pose, scene, top_down_camera
from synthscene.core.state import Light, Material
from synthscene.seeding import frame_rng
from tolerances import tol

pytestmark = pytest.mark.gl


def _lit_scene(width: int, height: int):
    """Cubes under every kind of light: plain, metallic, textured and see-through materials."""
    rng = frame_rng(5, 0)
    texture = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    materials = [
        Material(base_color=(0.8, 0.2, 0.1, 1.0)),
        Material(base_color=(0.3, 0.7, 0.9, 1.0), metallic=0.9, roughness=0.2),
        Material(base_color=(1.0, 1.0, 1.0, 1.0), texture=texture),
        Material(base_color=(0.2, 0.9, 0.3, 0.5)),  # transparent: drawn last, blended
    ]
    objects = []
    for i, material in enumerate(materials):
        R = Rotation.from_euler("xyz", rng.uniform(-1.0, 1.0, 3)).as_matrix()
        obj = cube(i + 1, [0.15 * (i - 1.5), 0.05 * (-1) ** i, 0.08], 0.12, R)
        objects.append(dataclasses.replace(obj, material=material))
    state = scene(objects, top_down_camera(width, height, f=260.0, z=1.0))
    spot = pose([0.2, 0.1, 0.8], Rotation.from_euler("x", 0.2).as_matrix())
    lights = (
        Light("directional", pose([0, 0, 1], Rotation.from_euler("y", 0.4).as_matrix()),
              (1.0, 0.9, 0.8), 2.5),
        Light("point", pose([-0.3, 0.2, 0.5]), (0.8, 0.8, 1.0), 4.0),
        Light("spot", spot, (1.0, 1.0, 1.0), 6.0, inner_cone_angle=0.2, outer_cone_angle=0.6),
        Light("directional", pose([0, 0, 1], Rotation.from_euler("x", -0.5).as_matrix()),
              (0.5, 0.5, 0.5), 1.0),
    )
    return dataclasses.replace(state, lights=lights, ambient_light=(0.1, 0.1, 0.12))


@pytest.fixture
def uploaded(monkeypatch):
    """The pyrender primitive each VertexArray made from now on was uploaded from (a
    VertexArray keeps only what later passes read)."""
    import weakref

    from synthscene.render.gl import VertexArray

    primitives: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    upload = VertexArray.__init__

    def recording(self, primitive) -> None:
        upload(self, primitive)
        primitives[self] = primitive

    monkeypatch.setattr(VertexArray, "__init__", recording)
    return primitives


def _pyrender_scene(state, items, view, uploaded):
    """The frame as a ``pyrender.Scene`` (the reference: pyrender's own scene graph), with its
    lights sorted by name so that the shader sums them in a fixed order."""
    import pyrender

    from synthscene.render.renderer import _gl_camera

    class OrderedScene(pyrender.Scene):
        @property
        def light_nodes(self):
            return sorted(super().light_nodes, key=lambda node: node.name)

    scene = OrderedScene(ambient_light=np.asarray(state.ambient_light, dtype=np.float64),
                         bg_color=np.array([*state.background_color, 1.0]))
    for item in items:
        primitives = []
        for part in item.parts:
            p = uploaded[part.mesh]
            primitives.append(pyrender.Primitive(
                positions=p.positions, normals=p.normals, tangents=p.tangents,
                texcoord_0=p.texcoord_0, texcoord_1=p.texcoord_1, color_0=p.color_0,
                indices=p.indices, material=part.material, mode=p.mode, poses=p.poses))
        scene.add(pyrender.Mesh(primitives=primitives), pose=item.world_from_model,
                  name=item.name)
    for index, light in enumerate(state.lights):
        color = np.asarray(light.color, dtype=np.float64)
        if light.kind == "directional":
            made = pyrender.DirectionalLight(color=color, intensity=light.intensity)
        elif light.kind == "point":
            made = pyrender.PointLight(color=color, intensity=light.intensity)
        else:
            made = pyrender.SpotLight(color=color, intensity=light.intensity,
                                      innerConeAngle=light.inner_cone_angle,
                                      outerConeAngle=light.outer_cone_angle)
        scene.add(made, pose=light.world_from_light, name=f"light-{index:03d}")
    scene.add(_gl_camera(state.camera), pose=view.world_from_camera)
    return scene


def _pyrenders_own(renderer, state, flags, uploaded) -> np.ndarray:
    """The same items through pyrender's public ``Renderer.render`` (its scene graph, its
    uniforms, its own shaders, 4x MSAA) in the renderer's context: the reference, its lit
    colours re-encoded from pyrender's x^(1/2.2) to sRGB as ours are."""
    import pyrender
    from OpenGL import GL

    from synthscene.render.renderer import _GLView

    items, _ = renderer._colour_items(state)
    scene = _pyrender_scene(state, items, _GLView.of(state.camera), uploaded)
    reference = pyrender.Renderer(renderer.width, renderer.height)
    try:
        rgb, _ = reference.render(scene, flags | pyrender.RenderFlags.OFFSCREEN)
    finally:
        reference.delete()
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
    if flags & pyrender.RenderFlags.FLAT:
        return np.ascontiguousarray(rgb)
    # pyrender's lit shader encodes linear x as x^(1/2.2); ours as sRGB (IEC 61966-2-1).
    linear = (rgb.astype(np.float64) / 255.0) ** 2.2
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(np.clip(srgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def _assert_close_to_pyrenders(lean, reference) -> None:
    """The lean pass (4x MSAA like pyrender's, its edited shaders) is within two levels of
    pyrender's own pass, and equal at most pixels. pyrender rebuilds each model matrix from
    translation, quaternion and scale; float32 rounding of the two matrices may move a few edge
    pixels, nothing else."""
    difference = np.abs(lean.astype(int) - reference.astype(int)).max(axis=-1)
    # 0.5 %: MSAA edge pixels and the see-through cube blend encoded values, and the
    # reference's are re-encoded from another curve (see _pyrenders_own).
    assert (difference > 2).mean() <= 0.005
    # Most pixels agree to the level pyrender's 8-bit value, re-encoded, can tell.
    assert (difference > 1).mean() < 0.05


@pytest.mark.parametrize(("shading", "light_subset"), [
    ("lit", (0, 1, 2, 3)), ("flat", (0, 1, 2, 3)),
    # The lean pass builds a program per (directional, point, spot) count; pyrender's loops
    # run to uniform counts. Some other counts, one kind missing or repeated:
    ("lit", (2,)), ("lit", (1, 1, 1)), ("lit", (3, 0, 2, 2)),
])
def test_lean_pass_gives_pyrenders_pixels(cube_library, uploaded, shading, light_subset):
    import pyrender

    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    width, height = 160, 120
    state = _lit_scene(width, height)
    state = dataclasses.replace(state, lights=tuple(state.lights[i] for i in light_subset))
    flags = pyrender.RenderFlags.FLAT if shading == "flat" else pyrender.RenderFlags.NONE
    settings = RenderSettings(shading=shading, msaa_samples=4)
    with Renderer(cube_library, width, height, settings) as renderer:
        lean = renderer.render(state).rgb
        reference = _pyrenders_own(renderer, state, flags, uploaded)
    assert lean.std() > 10  # a lit, textured picture, not a blank one
    assert np.unique(lean.reshape(-1, 3), axis=0).shape[0] > 100
    _assert_close_to_pyrenders(lean, reference)


def test_more_lights_of_a_kind_than_pyrenders_shader_takes(cube_library):
    from synthscene.render.renderer import Renderer

    state = _lit_scene(64, 48)
    sun = state.lights[0]
    five = dataclasses.replace(state, lights=(dataclasses.replace(sun, intensity=0.5),) * 5)
    one = dataclasses.replace(state, lights=(dataclasses.replace(sun, intensity=2.5),))
    with Renderer(cube_library, 64, 48) as renderer:
        five_rgb, one_rgb = renderer.render(five).rgb, renderer.render(one).rgb
    # Light adds up: five lights of a fifth of the intensity are one light (to float rounding).
    assert one_rgb.std() > 10
    assert np.abs(five_rgb.astype(int) - one_rgb.astype(int)).max() <= 1


def test_shadows_darken_the_ground_and_leave_the_labels(cube_library):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    state = _lit_scene(160, 120)
    sun = Light("directional", pose([0, 0, 1], Rotation.from_euler("y", 0.5).as_matrix()),
                (1.0, 1.0, 1.0), 3.0)
    state = dataclasses.replace(state, lights=(sun,))
    outputs = {}
    for shadows in (False, True):
        shadowed = dataclasses.replace(state, shadow_softness_m=0.003 if shadows else None)
        with Renderer(cube_library, 160, 120, RenderSettings()) as renderer:
            outputs[shadows] = renderer.render(shadowed)
    plain, shadowed = outputs[False], outputs[True]
    np.testing.assert_array_equal(plain.instance_ids, shadowed.instance_ids)
    ground = plain.instance_ids == 0
    darker = plain.rgb.astype(int).sum(-1) - shadowed.rgb.astype(int).sum(-1) > 30
    assert (darker & ground).sum() > 200  # the cubes' shadows on the ground
    assert (darker & ~ground).sum() < (darker & ground).sum()


@pytest.mark.parametrize("metallic", [0.0, 0.9])
def test_edited_shaders_match_pyrenders_own_within_two_levels(cube_library, uploaded, metallic):
    import pyrender

    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    width, height = 160, 120
    state = _lit_scene(width, height)
    objects = tuple(dataclasses.replace(o, material=dataclasses.replace(o.material,
                                                                       metallic=metallic))
                    for o in state.objects)
    state = dataclasses.replace(state, objects=objects)
    with Renderer(cube_library, width, height, RenderSettings(msaa_samples=4)) as renderer:
        ours = renderer.render(state).rgb
        theirs = _pyrenders_own(renderer, state, pyrender.RenderFlags.NONE, uploaded)
    _assert_close_to_pyrenders(ours, theirs)


@pytest.mark.parametrize("shading", ["lit", "flat"])
def test_color_pass_labels_match_the_separate_label_pass(cube_library, shading):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    width, height = 160, 120
    state = _lit_scene(width, height)  # with a see-through cube, drawn last and blended
    with Renderer(cube_library, width, height, RenderSettings(shading=shading)) as renderer:
        assert renderer._labels_in_colour_pass()
        merged = renderer.render(state)
    # Normals need the separate label pass (its third attachment).
    settings = RenderSettings(shading=shading, normals=True)
    with Renderer(cube_library, width, height, settings) as renderer:
        assert not renderer._labels_in_colour_pass()
        separate = renderer.render(state)
    assert set(np.unique(merged.instance_ids)) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(merged.instance_ids, separate.instance_ids)
    np.testing.assert_allclose(merged.depth, separate.depth, rtol=0, atol=tol.float32)
    # Blending never reaches the labels: the see-through cube's depth is its own surface's.
    np.testing.assert_array_equal(merged.rgb, separate.rgb)
