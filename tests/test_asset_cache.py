"""The on-disk asset cache and the bound on loaded assets: the dataset's bytes are the same with
a cold cache, a warm one, a damaged one, no cache, and any ``limits.max_loaded_assets``; a warm
cache reads no asset file; concurrent writers leave a valid entry; clearing removes only the
cache's own files."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

import synthscene.assets.library as library_module
from synthscene.assets.cache import AssetCache, clear_cache, default_cache_dir, open_cache
from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.config.loading import scenario_from_dict
from synthscene.run.pipeline import generate

SOURCES = ["pybullet_data:duck_vhacd.urdf", "pybullet_data:objects/mug.urdf",
           "pybullet_data:random_urdfs/00[0-2]/*.urdf", "pybullet_data:bunny.obj",
           "primitive:box"]


def _scenario(count: int = 3, **limits):
    return scenario_from_dict({
        "name": "cache",
        "image": {"width": 96, "height": 72},
        "assets": [{"source": s} for s in SOURCES],
        "objects": {"count": count, "placement": {"name": "stable"},
                    "material": {"asset_appearance": {"choice": ["keep", "jitter",
                                                                 "randomize"]}}},
        "lights": {"count": 1},
        **({"limits": limits} if limits else {}),
    })


def _dataset_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(folder.glob("images/*")) + [folder / "annotations.json"]
    for path in files:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _make(tmp_path: Path, name: str, *, cache_dir, frames: int = 2, count: int = 3,
          **limits) -> str:
    out = tmp_path / name
    generate(_scenario(count, **limits), out, frames=frames, seed=3, workers=1,
             cache_dir=cache_dir)
    return _dataset_hash(out)


def _entries(root: Path) -> list[Path]:
    return sorted((root / "assets").glob("*/*.npz"))


@pytest.mark.gl
def test_cold_warm_damaged_and_no_cache_give_the_same_dataset_bytes(tmp_path):
    cache = tmp_path / "cache"
    cold = _make(tmp_path, "cold", cache_dir=cache)
    written = _entries(cache)
    kinds = {p.name.split(".")[1] for p in written}
    assert {"geometry", "look"} <= kinds and any(k.startswith("poses-") for k in kinds)
    assert any(k.startswith("resting-") for k in kinds)
    warm = _make(tmp_path, "warm", cache_dir=cache)
    for path in written:  # truncate every entry: each must be read as a miss and rewritten
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    damaged = _make(tmp_path, "damaged", cache_dir=cache)
    none = _make(tmp_path, "none", cache_dir="none")
    assert cold == warm == damaged == none
    assert all(np.load(p, allow_pickle=False).files for p in _entries(cache))


def _library(cache: AssetCache | None) -> AssetLibrary:
    return AssetLibrary([AssetSource(source=s) for s in SOURCES], cache=cache)


def _arrays(library: AssetLibrary) -> list[np.ndarray]:
    out = []
    for key in library.keys:
        asset = library.get(key)
        out += [np.asarray(asset.mesh.vertices), np.asarray(asset.mesh.faces),
                asset.normalised_from_file, *asset.collision_hulls]
        for part in library.look(key):
            out += [part.vertices, part.faces]
            if part.material.base_color_texture is not None:
                out.append(part.material.base_color_texture)
    return out


def _files_refused(load):
    def refuse(entry, *args, **kwargs):  # (primitives too: they are cached like files)
        raise AssertionError(f"{entry.key} was loaded although the cache holds it")
    return refuse


def test_a_warm_cache_loads_no_asset_file_and_gives_the_same_arrays(tmp_path, monkeypatch):
    cache = AssetCache(tmp_path)
    cold = _arrays(_library(cache))
    for name in ("load_geometry", "load_look"):
        monkeypatch.setattr(library_module, name, _files_refused(getattr(library_module, name)))
    warm = _arrays(_library(AssetCache(tmp_path)))
    assert len(cold) == len(warm)
    for a, b in zip(cold, warm):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def _resting_arrays(library: AssetLibrary) -> list:
    from synthscene.randomize.stable_poses import resting_poses

    out = []
    for key in library.keys:
        asset = library.get(key)
        for scale in (0.03, 0.1, 0.3):  # three scale buckets
            poses = resting_poses(asset, scale, min_tip_rad=0.1)
            out += [poses.rotations, poses.probabilities, poses.lowest, poses.highest,
                    *poses.footprints, np.array([poses.margin_m, poses.any_rotation])]
    return out


def test_a_warm_cache_computes_no_stable_or_resting_pose_and_gives_the_same_poses(
        tmp_path, monkeypatch):
    import synthscene.randomize.stable_poses as stable_poses

    cold = _resting_arrays(_library(AssetCache(tmp_path)))

    def refuse(*args, **kwargs):
        raise AssertionError("poses computed although the cache holds them")

    monkeypatch.setattr(stable_poses, "_compute", refuse)
    monkeypatch.setattr(stable_poses, "_corrected", refuse)
    warm = _resting_arrays(_library(AssetCache(tmp_path)))
    assert len(cold) == len(warm)
    for a, b in zip(cold, warm):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_the_check_before_the_first_frame_merges_the_hulls_the_workers_then_read(
        tmp_path, monkeypatch):
    """Building a run's libraries merges every asset's collision hulls (as the simulator
    will) into the cache; frames made from that cache merge none, and give the bytes a run
    that merged its own gives."""
    import synthscene.assets.cache_records as records
    from synthscene.run.pipeline import build_library, iter_samples

    spec = _scenario()
    merged: list[int] = []
    real = records.merge_hulls

    def counted(hulls, max_hulls):
        merged.append(int(max_hulls))
        return real(hulls, max_hulls)

    monkeypatch.setattr(records, "merge_hulls", counted)
    library = build_library(spec, cache_dir=tmp_path / "cache")
    assert len(merged) == len(library.keys)  # each asset once, at the objects' budget
    assert not [p for p in _entries(tmp_path / "cache")
                if ".hulls-" not in p.name and ".geometry." not in p.name
                and ".look." not in p.name and ".poses-" not in p.name
                and ".resting-" not in p.name]
    hull_entries = {p.name.split(".")[0] for p in _entries(tmp_path / "cache")
                    if f".hulls-{merged[0]}." in p.name}
    assert len(hull_entries) == len(library.keys)
    merged.clear()
    fresh = build_library(spec, cache_dir=tmp_path / "cache")
    assert merged == []  # the second check reads them
    warm = [s.render.rgb for s in iter_samples(spec, frames=2, seed=3, library=fresh)]
    assert merged == []  # and so do the frames
    monkeypatch.setattr(records, "merge_hulls", real)
    cold = [s.render.rgb for s in iter_samples(spec, frames=2, seed=3,
                                               library=build_library(spec, cache_dir="none"))]
    assert all(np.array_equal(a, b) for a, b in zip(warm, cold))


def test_a_run_without_physics_merges_no_hull_before_the_first_frame(tmp_path, monkeypatch):
    """With ``physics.enabled: false`` the simulator never builds a body, so the check before
    the first frame merges no collision hull (and writes no ``hulls-N`` entry)."""
    import synthscene.assets.cache_records as records
    from synthscene.run.pipeline import build_library

    spec = scenario_from_dict({
        "name": "no-physics", "image": {"width": 96, "height": 72},
        "assets": [{"source": s} for s in SOURCES],
        "objects": {"count": 3}, "lights": {"count": 1}, "physics": {"enabled": False},
    })
    merged: list[int] = []
    real = records.merge_hulls

    def counted(hulls, max_hulls):
        merged.append(int(max_hulls))
        return real(hulls, max_hulls)

    monkeypatch.setattr(records, "merge_hulls", counted)
    library = build_library(spec, cache_dir=tmp_path / "cache")
    checked = {p.name.split(".")[0] for p in _entries(tmp_path / "cache")
               if ".geometry." in p.name}
    assert len(checked) == len(library.keys) > 0  # every asset was loaded and checked
    assert merged == []
    assert not [p for p in _entries(tmp_path / "cache") if ".hulls-" in p.name]


def test_a_primitives_key_follows_the_code_that_makes_it(monkeypatch):
    import synthscene.assets.cache as cache_module
    from synthscene.assets.sources import index_source

    box, sphere = (index_source(AssetSource(source=f"primitive:{name}"))[0]
                   for name in ("box", "sphere"))
    cache = AssetCache(Path("unused"))
    options = {"max_triangles": 1000}
    key = cache.key(box, options=options)
    assert key is not None and key == AssetCache(Path("other")).key(box, options=options)
    assert key != cache.key(sphere, options=options)
    assert key != cache.key(box, options={"max_triangles": 2000})
    monkeypatch.setattr(cache_module, "_primitive_code", lambda: "trimesh 0.0 edited")
    assert cache.key(box, options=options) != key


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "other-key"])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path, monkeypatch, damage):
    cache = AssetCache(tmp_path)
    key = "pybullet_data:duck_vhacd.urdf"
    library = AssetLibrary([AssetSource(source=key)], cache=cache)
    first = library.get(key)
    (entry,) = [p for p in _entries(tmp_path) if ".geometry." in p.name]
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[:-100])
    elif damage == "flip":
        middle = len(data) // 2
        entry.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        other = [p for p in _entries(tmp_path) if p != entry]
        entry.write_bytes(other[0].read_bytes() if other else b"x")
    calls = []
    original = library_module.load_geometry
    monkeypatch.setattr(library_module, "load_geometry",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    again = AssetLibrary([AssetSource(source=key)], cache=AssetCache(tmp_path)).get(key)
    assert calls == [1]
    assert np.array_equal(again.mesh.vertices, first.mesh.vertices)
    assert AssetCache(tmp_path).read(again.cache_key, "geometry") is not None


def _write_many(root: str, key: str, meta: dict, arrays: dict, start) -> None:
    start.wait()
    cache = AssetCache(Path(root))
    for _ in range(30):
        assert cache.write(key, "geometry", meta, arrays)


def test_concurrent_writers_of_one_entry_leave_a_valid_entry(tmp_path):
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("needs fork")
    arrays = {"vertices": np.linspace(0.0, 1.0, 60_000).reshape(-1, 3),
              "faces": np.arange(90_000, dtype=np.int64).reshape(-1, 3) % 7}
    key = "ab" * 32
    start = context.Barrier(2)
    writers = [context.Process(target=_write_many, args=(str(tmp_path), key, {"n": 1}, arrays,
                                                         start)) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    meta, read = AssetCache(tmp_path).read(key, "geometry")
    assert meta["n"] == 1
    assert all(np.array_equal(read[name], arrays[name]) for name in arrays)
    assert [p.name for p in (tmp_path / "assets" / "ab").iterdir()] == [f"{key}.geometry.npz"]


def test_clear_cache_removes_only_the_cache_entries(tmp_path):
    _arrays(_library(AssetCache(tmp_path)))
    entries = _entries(tmp_path)
    assert entries
    bucket = entries[0].parent
    mine = [tmp_path / "notes.txt", bucket / "mine.npz", tmp_path / "assets" / "keep.txt",
            tmp_path / "other" / "x.npz"]
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("user's file")
    temporary = bucket / f".{entries[0].name}.synthscene-0123456789ab.tmp"
    temporary.write_bytes(b"half")
    assert clear_cache(tmp_path) == len(entries)
    assert all(p.read_text() == "user's file" for p in mine)
    assert not temporary.exists() and _entries(tmp_path) == [bucket / "mine.npz"]
    assert clear_cache(tmp_path / "missing") == 0


def test_cache_location_and_switching_it_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHSCENE_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert open_cache().root == tmp_path / "c"
    assert open_cache("none") is None and open_cache("NONE") is None
    assert open_cache(tmp_path / "d").root == tmp_path / "d"
    monkeypatch.setenv("SYNTHSCENE_CACHE_DIR", "none")
    assert open_cache() is None
    assert default_cache_dir() != Path("none")


def test_an_unwritable_cache_folder_is_a_warning_not_an_error(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    library = _library(AssetCache(blocker / "cache"))
    assert len(_arrays(library)) > 0
    assert "cannot be written" in caplog.text
    assert blocker.read_text() == "not a folder"


@pytest.mark.gl
def test_a_tiny_max_loaded_assets_gives_the_same_dataset_bytes(tmp_path):
    # Two objects a frame from seven assets: the renderer frees the uploads of assets drawn
    # neither in this frame nor the one before, the libraries reload what they dropped.
    unlimited = _make(tmp_path, "unlimited", cache_dir="none", frames=5, count=2)
    limited = _make(tmp_path, "limited", cache_dir="none", frames=5, count=2,
                    max_loaded_assets=2)
    assert unlimited == limited


@pytest.mark.gl
def test_a_tiny_max_loaded_mib_gives_the_same_dataset_bytes(tmp_path):
    # 1 MiB holds a few of these assets with their uploads (the duck's look alone is over it).
    unlimited = _make(tmp_path, "unlimited", cache_dir=tmp_path / "c", frames=5, count=2)
    limited = _make(tmp_path, "limited", cache_dir=tmp_path / "c", frames=5, count=2,
                    max_loaded_mib=1)
    assert unlimited == limited


@pytest.mark.gl
def test_the_renderer_frees_the_uploads_of_the_assets_the_library_dropped(tmp_path):
    from synthscene.render.renderer import Renderer
    from synthscene.run.frames import build_library, render_settings
    from synthscene.run.pipeline import iter_samples

    scenario = _scenario(2, max_loaded_assets=2)
    libraries = build_library(scenario, cache_dir=tmp_path / "c")
    states = [s.state for s in iter_samples(scenario, frames=6, seed=3, library=libraries)]
    drawn = {o.asset_key for state in states for o in state.objects}
    with Renderer(libraries, 96, 72, render_settings(scenario)) as renderer:
        for state in [*states, states[-1]]:  # the last again: no upload, only the freeing
            renderer.render(state)
        uploaded = set(renderer._base_meshes) | set(renderer._looks)
    last = {o.asset_key for o in states[-1].objects}
    assert uploaded <= last | {k for k in drawn if libraries.holds(k)}
    assert len(uploaded) < len(drawn)


def test_loaded_assets_are_bounded_by_their_bytes_least_recently_used_first(tmp_path):
    from synthscene.assets.footprint import asset_bytes
    from synthscene.assets.loaded import LoadedAssets

    sizes = {k: asset_bytes(_library(None).get(k)) for k in _library(None).keys[:3]}
    first, second, third = sizes
    store = LoadedAssets(max_bytes=sizes[first] + sizes[second])
    library = AssetLibrary([AssetSource(source=s) for s in SOURCES], cache=AssetCache(tmp_path),
                           loaded=store)
    library.get(first), library.get(second)
    assert store.evicted == 0 and store.nbytes == sizes[first] + sizes[second]
    library.get(first)  # now the most recent
    library.get(third)  # over the bytes: drops the least recently used, then fits
    assert not library.holds(second) and library.holds(first) and library.holds(third)
    assert store.nbytes == sizes[first] + sizes[third] and store.evicted == 1
    alone = LoadedAssets(max_bytes=1)  # an asset over the whole budget is still held, alone
    library = AssetLibrary([AssetSource(source=s) for s in SOURCES], loaded=alone)
    library.get(first), library.get(second)
    assert len(alone) == 1 and library.holds(second)


def test_an_assets_bytes_count_its_arrays_and_its_uploads():
    from synthscene.assets.footprint import ASSET_OVERHEAD_BYTES, asset_bytes, look_bytes

    library = _library(None)
    box, bunny = library.get("primitive:box"), library.get("pybullet_data:bunny.obj")
    for asset in (box, bunny):
        mesh = asset.mesh
        arrays = mesh.vertices.nbytes + mesh.faces.nbytes + mesh.face_normals.nbytes
        # the driver's float32 position, normal and texture coordinates of three vertices a
        # triangle, and the positions the renderer keeps
        uploads = len(mesh.faces) * 3 * (8 + 3) * 4
        assert asset_bytes(asset) >= ASSET_OVERHEAD_BYTES + arrays + uploads
    textured = library.look("pybullet_data:duck_vhacd.urdf")
    image = next(p.material.base_color_texture for p in textured
                 if p.material.base_color_texture is not None)
    assert look_bytes(textured) > 2 * image.nbytes


def test_the_default_limits_keep_a_library_of_small_assets_loaded_and_bound_large_ones():
    from synthscene.run.scene_libraries import index_libraries

    store = index_libraries(_scenario()).objects.loaded
    for i in range(1000):  # 1,000 assets of 200 KiB (a random_urdfs object with its uploads)
        store.put("owner", f"small{i}", "asset", i, 200 * 2**10)
    assert store.evicted == 0 and len(store) == 1000
    for i in range(20):  # 100 MiB each (a scanned object with a 4k texture)
        store.put("owner", f"large{i}", "asset", i, 100 * 2**20)
    assert store.nbytes <= 2**30 and store.evicted > 1000


def test_a_library_less_its_broken_assets_loads_through_the_same_cache_and_store(tmp_path):
    from synthscene.run.frames import build_library

    broken = tmp_path / "own" / "broken" / "broken.obj"
    broken.parent.mkdir(parents=True)
    broken.write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    (broken.parent / "ok.obj").write_text(  # a tetrahedron, so that the category stays
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    scenario = scenario_from_dict({"assets": [{"source": s} for s in SOURCES]
                                   + [{"source": f"dir:{tmp_path / 'own'}"}],
                                   "limits": {"max_loaded_mib": 64}})
    libraries = build_library(scenario, cache_dir=tmp_path / "c")
    assert [c.key for c in libraries.skipped] == [f"dir:{broken}"]
    objects = libraries.objects
    assert objects.cache is not None and objects.cache.root == tmp_path / "c"
    assert objects.loaded.max_bytes == 64 * 2**20
    assert all(objects.holds(k) for k in objects.keys)  # loaded by the check, kept


def test_loaded_assets_are_bounded_least_recently_used_first(tmp_path):
    from synthscene.assets.loaded import LoadedAssets

    library = AssetLibrary([AssetSource(source=s) for s in SOURCES], cache=AssetCache(tmp_path),
                           loaded=LoadedAssets(2))
    keys = library.keys
    first, second = library.get(keys[0]), library.get(keys[1])
    assert library.get(keys[0]) is first  # a hit: keys[0] is now the most recent
    library.get(keys[2])  # drops keys[1], the least recently used
    assert library.loaded.evicted == 1 and len(library.loaded) == 2
    assert library.get(keys[0]) is first
    again = library.get(keys[1])  # loaded again (from the cache): equal, not the same object
    assert again is not second and np.array_equal(again.mesh.vertices, second.mesh.vertices)


def test_the_cache_folder_and_the_limit_travel_to_workers_with_the_libraries(tmp_path):
    import pickle

    from synthscene.run.frames import build_library

    scenario = scenario_from_dict({
        "assets": [{"source": s} for s in SOURCES],
        "distractors": {"count": 1, "assets": [{"source": "pybullet_data:bunny.obj"}]},
        "limits": {"max_loaded_assets": 5}})
    libraries = pickle.loads(pickle.dumps(build_library(scenario, cache_dir=tmp_path / "c")))
    objects, distractors = libraries.objects, libraries.distractors
    assert objects.cache.root == distractors.cache.root == tmp_path / "c"
    assert objects.loaded is distractors.loaded and objects.loaded.limit == 5
    assert len(objects.loaded) == 0  # a worker starts with nothing loaded
    assert build_library(scenario, cache_dir="none").objects.cache is None


@pytest.mark.gl
def test_the_commands_load_through_the_cache_folder_they_are_given(tmp_path):
    import subprocess
    import sys

    import yaml

    scene = tmp_path / "s.yaml"
    scene.write_text(yaml.safe_dump({
        "assets": [{"source": "pybullet_data:objects/mug.urdf"}],
        "image": {"width": 64, "height": 48}, "objects": {"count": 1},
        "physics": {"enabled": False}}))

    def command(*args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "synthscene.cli", *args],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    command("preview", str(scene), "--out", str(tmp_path / "p.png"), "--grid", "1x1",
            "--cache-dir", str(tmp_path / "preview-cache"))
    command("generate", str(scene), "--out", str(tmp_path / "d"), "--frames", "1",
            "--workers", "1", "--quiet", "--cache-dir", str(tmp_path / "generate-cache"))
    assert _entries(tmp_path / "preview-cache") and _entries(tmp_path / "generate-cache")
