"""Plain, frozen data that flows between the pipeline's stages.

``sample_scene`` fills a :class:`SceneState`; ``PhysicsSimulator.settle`` returns a new one with
settled poses; ``Renderer.render`` turns it into a :class:`RenderOutput`; ``annotate`` turns both
into a :class:`Sample`. None of these types touches a backend (no GL, no pybullet).

Conventions (``docs/architecture.md``): SI units (metres, radians); poses are 4x4 float64
homogeneous matrices named ``a_from_b``; the camera frame is OpenCV's (x right, y down, z forward);
the world frame is z-up with the ground plane at z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from synthscene.core.lens import Lens

LightKind = Literal["directional", "point", "spot"]
PhysicsRole = Literal["dynamic", "static", "none"]


@dataclass(frozen=True)
class HsvJitter:
    """An identity-preserving colour change, applied in HSV (see
    :func:`synthscene.assets.appearance.jitter_colors`).

    Attributes
    ----------
    hue_shift_rad : float
        Added to the hue, radians (wraps around).
    saturation_scale : float
        Multiplies the saturation (clipped to [0, 1]).
    value_scale : float
        Multiplies the value (clipped to [0, 1]).
    """

    hue_shift_rad: float = 0.0
    saturation_scale: float = 1.0
    value_scale: float = 1.0


@dataclass(frozen=True, eq=False)
class Material:
    """A PBR metallic-roughness material (glTF 2.0 conventions).

    Attributes
    ----------
    base_color : (4,) tuple of float
        Linear RGBA in [0, 1].
    metallic : float or None
        In [0, 1]; None (``keep`` and ``jitter`` only) renders the value the asset declares.
    roughness : float or None
        In [0, 1]; None (``keep`` and ``jitter`` only) renders the value the asset declares.
    texture : (h, w, 3) uint8 or None
        sRGB base-colour texture; when given it replaces ``base_color`` (mapped through the
        mesh's texture coordinates, or a box projection for meshes without them).
    appearance : {"randomize", "keep", "jitter"}
        ``randomize``: the fields above. ``keep``: the colours and textures the asset's files
        declare (:mod:`synthscene.assets.appearance`). ``jitter``: those, changed by ``jitter``.
        Backdrops (ground, walls) are always ``randomize``.
    jitter : HsvJitter
        The hue shift and saturation and value scales of ``jitter`` (identity otherwise).

    Notes
    -----
    Compared by identity. A renderer keeps what it made of a Material (its texture uploaded)
    while consecutive frames draw that same object, as the frames of a sequence and the views
    of a scene do: to change a texture, make a new Material rather than writing into the
    ``texture`` array of one already drawn.
    """

    base_color: tuple[float, float, float, float]
    metallic: float | None = 0.0
    roughness: float | None = 0.6
    texture: np.ndarray | None = None
    appearance: Literal["randomize", "keep", "jitter"] = "randomize"
    jitter: HsvJitter = HsvJitter()


@dataclass(frozen=True, eq=False)
class SceneObject:
    """One object instance in a frame.

    Attributes
    ----------
    instance_id : int
        >= 1, unique within the frame; the value this object takes in ``instance_ids``.
    asset_key : str
        Key of the asset in the :class:`~synthscene.assets.library.AssetLibrary`.
    category : str
        Category name (the COCO category).
    scale : float
        Uniform scale applied to the asset's normalised mesh, whose longest bounding-box edge is
        1; so ``scale`` is the object's longest bounding-box edge in metres.
    world_from_object : (4, 4) float64
        Rigid pose of the object's frame (the centre of its bounding box) in the world, metres.
    material : Material
        The object's material for this frame.
    labelled : bool
        False for distractors and fixtures, which are rendered but never labelled.
    physics : {"dynamic", "static", "none"}
        ``"dynamic"``: dropped and settled; ``"static"``: an immovable collider (a tote, a
        shelf); ``"none"``: ignored by physics and left where it is (floating distractors).
    linear_velocity : (3,) tuple of float
        Velocity of the centre of mass in the world frame, m/s, at the start of a sequence
        (zero otherwise; :meth:`PhysicsSimulator.simulate` starts the body with it).
    angular_velocity : (3,) tuple of float
        Angular velocity about world axes, rad/s, at the start of a sequence.
    """

    instance_id: int
    asset_key: str
    category: str
    scale: float
    world_from_object: np.ndarray
    material: Material
    labelled: bool = True
    physics: PhysicsRole = "dynamic"
    linear_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    angular_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True, eq=False)
class Light:
    """A light, in pyrender's conventions (it shines along the -z axis of its frame).

    Attributes
    ----------
    kind : {"directional", "point", "spot"}
    world_from_light : (4, 4) float64
        Pose of the light; the light shines along its local -z axis.
    color : (3,) tuple of float
        Linear RGB in [0, 1].
    intensity : float
        W/m^2 for directional lights, candela for point and spot lights (pyrender's units).
    inner_cone_angle, outer_cone_angle : float
        Spot lights only, radians, 0 <= inner < outer <= pi/2.
    """

    kind: LightKind
    world_from_light: np.ndarray
    color: tuple[float, float, float]
    intensity: float
    inner_cone_angle: float = 0.0
    outer_cone_angle: float = np.pi / 4


SKY = "procedural_sky"
"""``Environment.source`` of the procedural sky (``lights.environment.images: procedural_sky``)."""


@dataclass(frozen=True, eq=False)
class Environment:
    """Light arriving from every direction: an equirectangular map, or the procedural sky.

    Attributes
    ----------
    source : str
        Path of an environment map file (``.hdr``, ``.exr``, ``.png``, ``.jpg``), or
        :data:`SKY`.
    intensity : float
        Multiplies the map's radiance (units in ``docs/light.md``).
    rotation_rad : float
        Turn of the map about the world's +z axis, radians, counter-clockwise seen from above:
        what the map holds at azimuth ``phi`` arrives from azimuth ``phi + rotation_rad``.
    sun_elevation_rad : float
        The sky's sun elevation above the horizon, radians (:data:`SKY` only).
    turbidity : float
        The sky's turbidity (:data:`SKY` only).
    visible : bool
        Whether the map is seen where nothing was rendered (``background.environment``).
    """

    source: str
    intensity: float = 1.0
    rotation_rad: float = 0.0
    sun_elevation_rad: float = 0.0
    turbidity: float = 3.0
    visible: bool = False


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes
    ----------
    K : (3, 3) float64
        Intrinsics in pixels, ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``, in OpenCV's convention: the
        centre of pixel (column u, row v) is at image coordinates (u, v), so ``cv2.projectPoints``
        with this K gives pixel positions. (COCO boxes use pixel edges: pixel u spans [u, u + 1).)
    width, height : int
        Image size in pixels.
    world_from_camera : (4, 4) float64
        Pose of the camera in OpenCV's frame convention (x right, y down, z forward).
    znear, zfar : float
        Clipping distances in metres.
    lens : Lens or None
        Lens distortion (:class:`synthscene.core.lens.Lens`, OpenCV's models): a point
        projects to ``K`` applied to its *distorted* normalised coordinates. None: an ideal
        pinhole.
    footprint : (n, 2) float64 or None
        Pixel positions, in order around it, of a polygon (star-shaped about the principal
        point) outside which no pixel of this camera's image is used: the pinhole render of a
        distorted camera (:func:`synthscene.labels.lens_warp.lens_pinhole`), whose pixels
        outside the frame's outline through the lens the renderer does not shade. None: every
        pixel is used.
    """

    K: np.ndarray
    width: int
    height: int
    world_from_camera: np.ndarray
    znear: float = 0.01
    zfar: float = 100.0
    lens: Lens | None = None
    footprint: np.ndarray | None = None


@dataclass(frozen=True)
class Ground:
    """A square ground plane at z = 0, centred on the world origin.

    Attributes
    ----------
    size : float
        Side length in metres.
    material : Material
    """

    size: float
    material: Material


@dataclass(frozen=True, eq=False)
class Wall:
    """A rectangle seen from its front side (rendering only; no physics).

    Attributes
    ----------
    world_from_wall : (4, 4) float64
        Pose of the rectangle's centre; it spans local x in [-width/2, width/2] and y in
        [-height/2, height/2], and faces its local +z axis.
    width, height : float
        Metres.
    material : Material
    """

    world_from_wall: np.ndarray
    width: float
    height: float
    material: Material


@dataclass(frozen=True)
class BackgroundImage:
    """A background image, composited where nothing was rendered.

    Attributes
    ----------
    path : str
        Image file.
    zoom : float
        In (0, 1]: the part used is this fraction (in width and height) of the largest region
        of the image with the frame's aspect ratio; it is resized to the frame's size.
    offset : (2,) tuple of float
        In [0, 1]: where that part lies in the largest region (0: left/top, 1: right/bottom).
    """

    path: str
    zoom: float = 1.0
    offset: tuple[float, float] = (0.5, 0.5)


@dataclass(frozen=True)
class SequenceFrame:
    """A frame's place in a run of sequences (``sequence.length`` T frames at ``fps``): frame
    ``i`` of the run is frame ``i % T`` of sequence ``i // T``.

    Attributes
    ----------
    sequence_id : int
        >= 0.
    frame_index : int
        0 .. T - 1, the frame's position in its sequence; its time is ``frame_index / fps``
        seconds after the sequence's start.
    fps : float
        Frames per second.
    """

    sequence_id: int
    frame_index: int
    fps: float


@dataclass(frozen=True)
class StereoEye:
    """A frame's place in a stereo pair (``camera.stereo``): frame ``2p`` is the left and
    frame ``2p + 1`` the right image of pair ``p``.

    Attributes
    ----------
    pair_id : int
        ``p``, >= 0.
    eye : {"left", "right"}
    baseline_m : float
        Distance between the two optical centres, metres (> 0); the right camera is the left
        one moved by it along the left camera's +x axis (OpenCV's rectified stereo).
    """

    pair_id: int
    eye: str
    baseline_m: float


@dataclass(frozen=True)
class AmbientOcclusion:
    """Screen-space ambient occlusion of a frame: how much the ambient (and environment) light
    of a point is darkened by the surfaces near it (``render.ambient_occlusion``).

    Attributes
    ----------
    strength : float
        >= 0: 0 leaves the ambient light as it is, 1 darkens it by the occlusion estimated
        within ``radius``; larger values darken more (clipped at black).
    radius : float
        Metres, > 0: how far from a point the surfaces that occlude it are looked for.
    """

    strength: float
    radius: float


@dataclass(frozen=True, eq=False)
class SceneState:
    """Everything that defines one frame, as plain data.

    Attributes
    ----------
    objects : tuple of SceneObject
    lights : tuple of Light
    camera : Camera
    ground : Ground or None
    ambient_light : (3,) tuple of float
        Linear RGB ambient term.
    seed : (2,) tuple of int
        ``(run_seed, frame_index)``: the frame's generator is
        ``Generator(PCG64(SeedSequence([run_seed, frame_index])))``.
    drop_region : (2, 2) tuple of float or None
        ``((x_min, y_min), (x_max, y_max))`` in metres: objects that come to rest outside it are
        removed by physics.
    physics_steps : int
        Simulation steps physics took to settle the frame (0 before physics).
    walls : tuple of Wall
        Backdrop surfaces besides the ground (never labelled).
    background_color : (3,) tuple of float
        Linear RGB in [0, 1] where nothing is hit.
    background_image : BackgroundImage or None
        Composited where nothing is hit, after rendering.
    environment : Environment or None
        Light from every direction (image-based lighting), or None.
    pending_floating : int
        Floating distractors drawn but not yet placed: they are put in front of the final
        camera after physics (``randomize.scene.finish_scene``), then this is 0.
    view : (2,) tuple of int or None
        ``(scene_id, view_id)`` when the run renders several views of each settled scene
        (``camera.views_per_scene`` > 1): frame ``i`` is view ``i % K`` of scene ``i // K``.
        None otherwise.
    sequence : SequenceFrame or None
        Where the frame stands in a run of sequences; None otherwise.
    stereo : StereoEye or None
        Which eye of which stereo pair the frame is (``camera.stereo``); None otherwise.
    shadow_softness_m : float or None
        The lights cast shadows, filtered over this radius on the receiving surface (metres);
        None: no shadows.
    objects_left_out : int or None
        Labelled objects the placement drew but found no place for (the ``stable``
        placement, or a plug-in placement that counts them in ``ObjectPool.left_out``); None
        for a placement that places every object it draws (``drop``).
    ambient_occlusion : AmbientOcclusion or None
        The frame's ambient occlusion; None: none (the ambient light reaches every point).
    """

    objects: tuple[SceneObject, ...]
    lights: tuple[Light, ...]
    camera: Camera
    ground: Ground | None
    ambient_light: tuple[float, float, float] = (0.1, 0.1, 0.1)
    seed: tuple[int, int] = (0, 0)
    drop_region: tuple[tuple[float, float], tuple[float, float]] | None = None
    physics_steps: int = 0
    walls: tuple[Wall, ...] = ()
    background_color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    background_image: BackgroundImage | None = None
    view: tuple[int, int] | None = None
    sequence: SequenceFrame | None = None
    pending_floating: int = 0
    stereo: StereoEye | None = None
    environment: Environment | None = None
    shadow_softness_m: float | None = None
    objects_left_out: int | None = None
    ambient_occlusion: AmbientOcclusion | None = None


@dataclass(frozen=True, eq=False)
class RenderOutput:
    """What the renderer gives for one frame.

    Attributes
    ----------
    rgb : (H, W, 3) uint8
    depth : (H, W) float32
        Metres along the optical axis (camera z), 0 where nothing was hit.
    instance_ids : (H, W) int32
        ``SceneObject.instance_id`` of the nearest surface at each pixel centre, 0 for background
        and ground. Exact: no blended edge pixels.
    normals : (H, W, 3) float32 or None
        Unit surface normal of the nearest surface at each pixel centre, in the OpenCV camera
        frame (x right, y down, z forward), on the side facing the camera (``dot(n, p) < 0``
        for the camera-frame point ``p`` seen at the pixel; ``n = (0, 0, -1)`` for a surface
        seen head-on on the optical axis); ``(0, 0, 0)`` where nothing was hit. Flat per
        triangle (the geometric normal of the rasterised face, not interpolated vertex normals).
        None unless the renderer was asked for normals.
    amodal : dict of int to AmodalMask, or None
        For each *labelled* object (``SceneObject.labelled``), keyed by ``instance_id``: its
        silhouette rendered alone, including the parts hidden by other objects and the parts
        outside the image. None unless the renderer was asked for amodal masks.
    depth_sensor : (H, W) float32 or None
        A simulated depth sensor's reading (``outputs.depth_sensor``): metres along the optical
        axis with the sensor's noise, 0 where the sensor gives no reading. None unless asked.
    disparity : (H, W) float32 or None
        A stereo pair's disparity at each pixel (``camera.stereo``), pixels: ``fx b / depth``,
        0 where nothing was hit. None for a single camera.
    """

    rgb: np.ndarray
    depth: np.ndarray
    instance_ids: np.ndarray
    normals: np.ndarray | None = None
    amodal: dict[int, AmodalMask] | None = None
    depth_sensor: np.ndarray | None = None
    disparity: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class AmodalMask:
    """The full (amodal) silhouette of one object rendered alone, in a crop of the image plane.

    The crop is a rectangle of the *image* pixel grid that may extend beyond the image: crop
    pixel ``(r, c)`` is image pixel ``(row y0 + r, column x0 + c)``, sampled at the same pixel
    centre as the full image (so the in-image part is directly comparable to
    ``RenderOutput.instance_ids``).

    Attributes
    ----------
    x0, y0 : int
        Image column and row of the crop's top-left pixel; negative when the object extends
        beyond the image's left or top edge.
    mask : (h, w) bool
        True where the object, drawn alone (same camera, same back-face culling), covers the
        pixel centre.
    """

    x0: int
    y0: int
    mask: np.ndarray


@dataclass(frozen=True)
class InstanceLabel:
    """Labels of one visible, labelled object instance.

    Attributes
    ----------
    instance_id : int
        The object's ``instance_id`` in the frame.
    category : str
    bbox : (4,) tuple of float
        COCO ``[x, y, width, height]`` in pixels, tight to the visible mask
        (equal to ``pycocotools.mask.toBbox`` of ``segmentation``).
    area : int
        Number of visible pixels.
    segmentation : dict
        Compressed COCO RLE ``{"size": [H, W], "counts": str}``.
    amodal_bbox : (4,) tuple of float or None
        COCO ``[x, y, width, height]`` in image pixels, tight to the amodal mask (the whole
        object, hidden parts included); may extend beyond the image (negative ``x``, ``y``, or
        ``x + width > W``). Contains ``bbox``.
    amodal_area : int or None
        Pixel count of the amodal mask, including the pixels outside the image. ``>= area``.
    amodal_segmentation : dict or None
        Compressed COCO RLE of the amodal mask clipped to the image.
    visib_fract : float or None
        ``area / amodal_area`` (the BOP definition), in (0, 1].
    truncation : float or None
        Fraction of the amodal mask's pixels that lie outside the image, in [0, 1).
    cam_R_m2c : (9,) tuple of float or None
        Rotation from the object (model) frame to the OpenCV camera frame, 3x3 row-major (BOP).
    cam_t_m2c : (3,) tuple of float or None
        Position of the object frame's origin in the OpenCV camera frame, millimetres (BOP).
    world_from_object : (4, 4) tuple of tuples of float or None
        The object's pose in the world, metres (``SceneObject.world_from_object``).
    object_scale_m : float or None
        ``SceneObject.scale``: metres per unit of the asset's normalised mesh, so model
        coordinates in metres are the mesh's vertices times ``object_scale_m``.
    keypoints : (27,) tuple of float and int, or None
        COCO keypoints ``[x1, y1, v1, ..., x9, y9, v9]``: the 8 corners of the object's 3D
        bounding box and its centre (order: :data:`synthscene.io.keypoints.KEYPOINT_NAMES`),
        ``x``, ``y`` floats in COCO pixel coordinates (pixel edges at integers), ``v`` an int: 2
        visible, 1 occluded, 0 outside the image or behind the camera (then ``x = y = 0``).
    num_keypoints : int or None
        Number of keypoints with ``v > 0``.
    """

    instance_id: int
    category: str
    bbox: tuple[float, float, float, float]
    area: int
    segmentation: dict
    amodal_bbox: tuple[float, float, float, float] | None = None
    amodal_area: int | None = None
    amodal_segmentation: dict | None = None
    visib_fract: float | None = None
    truncation: float | None = None
    cam_R_m2c: tuple[float, ...] | None = None
    cam_t_m2c: tuple[float, float, float] | None = None
    world_from_object: tuple[tuple[float, ...], ...] | None = None
    object_scale_m: float | None = None
    keypoints: tuple[float | int, ...] | None = None
    num_keypoints: int | None = None


@dataclass(frozen=True, eq=False)
class FrameMotion:
    """Optical flow of one frame of a sequence (see :mod:`synthscene.labels.motion`).

    Attributes
    ----------
    forward : (H, W, 2) float32
        Pixels ``(dx, dy)`` each pixel's surface point moves by to the next frame; 0 where not
        valid.
    forward_valid : (H, W) bool
        Where ``forward`` is defined and the point is visible in the next frame (on a rendered
        surface, in view, not occluded). All False on a sequence's last frame.
    backward : (H, W, 2) float32
        Pixels to the previous frame; 0 where not valid.
    backward_valid : (H, W) bool
        As ``forward_valid``, for the previous frame; all False on the first frame.
    """

    forward: np.ndarray
    forward_valid: np.ndarray
    backward: np.ndarray
    backward_valid: np.ndarray


@dataclass(frozen=True, eq=False)
class PointTracks:
    """Points on the labelled objects of a sequence's first frame, followed through it (the
    layout of TAP-Vid's Kubric split; see :func:`synthscene.labels.motion.point_tracks`).

    Attributes
    ----------
    sequence_id : int
    target_points : (N, T, 2) float32
        ``(x, y)`` pixels of each point in each frame (OpenCV pixel centres).
    occluded : (N, T) bool
        Hidden, behind the camera or out of view.
    query_points : (N, 3) float32
        ``(t, y, x)`` where each track was drawn: frame 0, at a pixel centre; for the right eye
        of a stereo sequence, where the right eye first sees the point (frame 0 where never).
    track_ids : (N,) int64
        The dataset track id (``track_id`` of the annotations) of the object each point is on.
    eye : {"left", "right"} or None
        The eye of a stereo sequence whose frames the points are followed through (row ``n``
        is the same surface point in both eyes' tracks); None for a single camera.
    """

    sequence_id: int
    target_points: np.ndarray
    occluded: np.ndarray
    query_points: np.ndarray
    track_ids: np.ndarray
    eye: str | None = None


@dataclass(frozen=True, eq=False)
class Sample:
    """One labelled frame.

    Attributes
    ----------
    frame_index : int
    state : SceneState
        The settled scene.
    render : RenderOutput
    labels : tuple of InstanceLabel
        One per labelled object with at least one visible pixel, in ``instance_id`` order.
    timings : dict of str to float
        Seconds spent per stage (``sample``, ``physics``, ``render``, ``labels``).
    motion : FrameMotion or None
        Optical flow to the next and from the previous frame of a sequence (None otherwise).
    point_tracks : PointTracks or None
        The point tracks of the frame's sequence (``outputs.point_tracks``), the same object
        for each of its frames.
    """

    frame_index: int
    state: SceneState
    render: RenderOutput
    labels: tuple[InstanceLabel, ...]
    timings: dict[str, float] = field(default_factory=dict)
    motion: FrameMotion | None = None
    point_tracks: PointTracks | None = None
