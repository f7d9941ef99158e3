// SSE Studio structure viewer: atoms as ray-cast sphere impostors, plain WebGL.
//
// ESM module of ssestudio.ui.viewer.StructureViewer (a Panel JSComponent). No imports:
// everything (matrices, shaders, camera) is in this file. WebGL2 is used when present,
// WebGL1 (+ EXT_frag_depth when available) otherwise.
//
// Data from Python (see viewer.py), all as synced properties: per-atom arrays arrive as
// base64 strings of little-endian float32 / uint8 data; cell is 9 floats (vectors as
// rows) or empty. Updates are drawn on the next animation frame; several arriving
// within one frame are decoded once.
// After each draw the canvas carries data-frame and data-draw-count for tests.

const FOV_Y = 35 * Math.PI / 180
const MAX_DPR = 2
// each atom is a quad of two triangles: 6 vertices carrying the atom's data. (Instanced
// drawing was ~3x slower in SwiftShader, the software WebGL of headless browsers and
// GPU-less machines; the copies cost ~1 ms per 10,000 atoms.)
const CORNERS = [-1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, 1]
const VPA = 6  // vertices per atom

// repeat each atom's k components VPA times: (n, k) -> (n * VPA, k)
function expand(src, k, out) {
  const n = out.length / (k * VPA)
  let o = 0
  for (let i = 0; i < n; i++) {
    for (let v = 0; v < VPA; v++) for (let j = 0; j < k; j++) out[o++] = src[k * i + j]
  }
  return out
}
const HIGHLIGHT_RGB = [1.0, 0.55, 0.0]

// ---- decoding -------------------------------------------------------------------
function b64bytes(s) {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
function decodeF32(s) {
  if (!s) return null
  const b = b64bytes(s)
  return new Float32Array(b.buffer, 0, b.byteLength >> 2)
}
function decodeU8(s) { return s ? b64bytes(s) : null }
function hexRgb(h) {
  let s = String(h || "#ffffff").trim().replace("#", "")
  if (s.length === 3) s = s.split("").map((c) => c + c).join("")
  const v = parseInt(s.slice(0, 6), 16)
  if (Number.isNaN(v)) return [1, 1, 1]
  return [(v >> 16 & 255) / 255, (v >> 8 & 255) / 255, (v & 255) / 255]
}

// ---- small matrix helpers (column-major 4x4, as GLSL expects) --------------------
function perspective(fovy, aspect, near, far) {
  const f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far)
  return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1,
    0, 0, 2 * far * near * nf, 0])
}
function orthographic(hw, hh, near, far) {
  const nf = 1 / (near - far)
  return new Float32Array([1 / hw, 0, 0, 0, 0, 1 / hh, 0, 0, 0, 0, 2 * nf, 0,
    0, 0, (far + near) * nf, 1])
}
// rotation: 3x3 row-major array; view = T(0,0,-dist) * R * T(-target)
function viewMatrix(R, target, dist) {
  const t = [0, 1, 2].map((i) => -(R[3 * i] * target[0] + R[3 * i + 1] * target[1] + R[3 * i + 2] * target[2]))
  return new Float32Array([R[0], R[3], R[6], 0, R[1], R[4], R[7], 0, R[2], R[5], R[8], 0,
    t[0], t[1], t[2] - dist, 1])
}
function axisAngle(x, y, z, a) {
  const c = Math.cos(a), s = Math.sin(a), t = 1 - c
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y,
    t * x * y + s * z, t * y * y + c, t * y * z - s * x,
    t * x * z - s * y, t * y * z + s * x, t * z * z + c]
}
function mul3(A, B) {
  const C = new Array(9)
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j]
  }
  return C
}
function orthonormalize(R) { // Gram-Schmidt on rows, against drift after many drags
  const r0 = R.slice(0, 3), r1 = R.slice(3, 6)
  const n0 = Math.hypot(...r0); for (let k = 0; k < 3; k++) r0[k] /= n0
  const d = r0[0] * r1[0] + r0[1] * r1[1] + r0[2] * r1[2]
  for (let k = 0; k < 3; k++) r1[k] -= d * r0[k]
  const n1 = Math.hypot(...r1); for (let k = 0; k < 3; k++) r1[k] /= n1
  const r2 = [r0[1] * r1[2] - r0[2] * r1[1], r0[2] * r1[0] - r0[0] * r1[2], r0[0] * r1[1] - r0[1] * r1[0]]
  return [...r0, ...r1, ...r2]
}
const DEFAULT_ROT = mul3(axisAngle(1, 0, 0, 0.35), axisAngle(0, 1, 0, -0.5))

// ---- shaders ----------------------------------------------------------------------
const SPHERE_VS = `
IN vec2 a_corner;
IN vec3 a_center;
IN vec3 a_color;
IN float a_radius;
IN float a_flag;
uniform mat4 u_view;
uniform mat4 u_proj;
uniform float u_scale;
uniform float u_ortho;
OUT vec3 v_center;
OUT vec3 v_point;
OUT float v_radius;
OUT vec3 v_color;
OUT float v_flag;
void main() {
  vec4 c = u_view * vec4(a_center, 1.0);
  float r = a_radius * u_scale;
  vec3 p;
  if (u_ortho > 0.5) {
    p = c.xyz + vec3(a_corner * r, r);
  } else {
    // quad on the sphere's front plane, centred on the line of sight to the centre and
    // large enough to cover the perspective silhouette (elongated off axis)
    // (theta: angle of the centre off the view axis, alpha: angular radius of the sphere)
    float z = -c.z;
    float d = length(c.xyz);
    float zf = z - r;
    if (zf <= 1e-4 || d <= r * 1.001) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); return; }
    float tt = length(c.xy) / z;                // tan(theta)
    float ta = r / sqrt(d * d - r * r);         // tan(alpha)
    float den = max(1.0 - tt * ta, 0.05);
    float radial = (tt + ta) / den - tt;        // tan(theta + alpha) - tan(theta)
    float half_size = zf * max(radial, ta * d / z) * 1.02;
    p = c.xyz * (zf / z) + vec3(a_corner * half_size, 0.0);
  }
  v_center = c.xyz;
  v_point = p;
  v_radius = r;
  v_color = a_color;
  v_flag = a_flag;
  gl_Position = u_proj * vec4(p, 1.0);
}`

const SPHERE_FS = `
uniform mat4 u_proj;
uniform float u_ortho;
uniform float u_hl;
uniform vec3 u_bg;
uniform vec3 u_hl_color;
IN vec3 v_center;
IN vec3 v_point;
IN float v_radius;
IN vec3 v_color;
IN float v_flag;
void main() {
  vec3 n;
  vec3 hit;
  vec3 V;
  if (u_ortho > 0.5) {
    vec2 d = (v_point.xy - v_center.xy) / v_radius;
    float rr = dot(d, d);
    if (rr > 1.0) discard;
    n = vec3(d, sqrt(1.0 - rr));
    hit = v_center + v_radius * n;
    V = vec3(0.0, 0.0, 1.0);
  } else {
    vec3 rd = normalize(v_point);
    float b = dot(rd, v_center);
    float h = b * b - dot(v_center, v_center) + v_radius * v_radius;
    if (h < 0.0) discard;
    float t = b - sqrt(h);
    if (t <= 0.0) discard;
    hit = t * rd;
    n = (hit - v_center) / v_radius;
    V = -rd;
  }
#ifdef HAS_FRAG_DEPTH
  vec4 clip = u_proj * vec4(hit, 1.0);
  FRAG_DEPTH = clamp(0.5 * clip.z / clip.w + 0.5, 0.0, 1.0);
#endif
  vec3 L = normalize(vec3(-0.35, 0.55, 0.75));
  float diffuse = max(dot(n, L), 0.0);
  vec3 H = normalize(L + V);
  float spec = pow(max(dot(n, H), 0.0), 40.0);
  float facing = max(dot(n, V), 0.0);
  vec3 col = v_color * (0.25 + 0.75 * diffuse) + vec3(0.3 * spec);
  col *= mix(0.72, 1.0, smoothstep(0.0, 0.45, facing));
  if (u_hl > 0.5) {
    if (v_flag > 0.5) {
      if (facing < 0.5) col = u_hl_color;
    } else {
      col = mix(col, u_bg, 0.8);
    }
  }
  FRAG_COLOR = vec4(col, 1.0);
}`

const LINE_VS = `
IN vec3 a_pos;
uniform mat4 u_view;
uniform mat4 u_proj;
void main() { gl_Position = u_proj * u_view * vec4(a_pos, 1.0); }`

const LINE_FS = `
uniform vec3 u_color;
void main() { FRAG_COLOR = vec4(u_color, 1.0); }`

function shaderHeader(gl2, vertex, fragDepth) {
  if (gl2) {
    return "#version 300 es\nprecision highp float;\n#define IN " + (vertex ? "in" : "in") + "\n" +
      (vertex ? "#define OUT out\n" :
        "#define HAS_FRAG_DEPTH 1\n#define FRAG_DEPTH gl_FragDepth\nout vec4 fragColor;\n#define FRAG_COLOR fragColor\n")
  }
  if (vertex) return "precision highp float;\n#define IN attribute\n#define OUT varying\n"
  return (fragDepth ? "#extension GL_EXT_frag_depth : enable\n#define HAS_FRAG_DEPTH 1\n#define FRAG_DEPTH gl_FragDepthEXT\n" : "") +
    "#ifdef GL_FRAGMENT_PRECISION_HIGH\nprecision highp float;\n#else\nprecision mediump float;\n#endif\n" +
    "#define IN varying\n#define FRAG_COLOR gl_FragColor\n"
}

function compile(gl, type, src) {
  const s = gl.createShader(type)
  gl.shaderSource(s, src)
  gl.compileShader(s)
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error("shader: " + gl.getShaderInfoLog(s))
  return s
}
function program(gl, gl2, fragDepth, vs, fs) {
  const p = gl.createProgram()
  gl.attachShader(p, compile(gl, gl.VERTEX_SHADER, shaderHeader(gl2, true, fragDepth) + vs))
  gl.attachShader(p, compile(gl, gl.FRAGMENT_SHADER, shaderHeader(gl2, false, fragDepth) + fs))
  gl.linkProgram(p)
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error("link: " + gl.getProgramInfoLog(p))
  const info = {prog: p, attr: {}, uni: {}}
  const na = gl.getProgramParameter(p, gl.ACTIVE_ATTRIBUTES)
  for (let i = 0; i < na; i++) { const a = gl.getActiveAttrib(p, i); info.attr[a.name] = gl.getAttribLocation(p, a.name) }
  const nu = gl.getProgramParameter(p, gl.ACTIVE_UNIFORMS)
  for (let i = 0; i < nu; i++) { const u = gl.getActiveUniform(p, i); info.uni[u.name] = gl.getUniformLocation(p, u.name) }
  return info
}

// ---- the renderer -----------------------------------------------------------------
class Renderer {
  constructor(canvas) {
    this.canvas = canvas
    this.n = 0
    this.positions = null   // Float32Array n*3, world coordinates (Å)
    this.cell = null        // 9 numbers or null
    this.bounds = {center: [0, 0, 0], radius: 1, maxRadius: 0}
    this.opts = {bg: [1, 1, 1], scale: 1, showCell: true, ortho: false, hl: false}
    this.rot = DEFAULT_ROT.slice()
    this.target = [0, 0, 0]
    this.dist = 10
    this.initGL()
  }

  initGL() {
    const attrs = {preserveDrawingBuffer: true, antialias: true, alpha: false, premultipliedAlpha: false}
    let gl = this.canvas.getContext("webgl2", attrs)
    this.gl2 = !!gl
    if (!gl) {
      gl = this.canvas.getContext("webgl", attrs) || this.canvas.getContext("experimental-webgl", attrs)
      if (!gl) throw new Error("WebGL is not available in this browser")
      this.fragDepth = !!gl.getExtension("EXT_frag_depth")
    } else {
      this.fragDepth = true
    }
    this.gl = gl
    this.sphere = program(gl, this.gl2, this.fragDepth, SPHERE_VS, SPHERE_FS)
    this.line = program(gl, this.gl2, this.fragDepth, LINE_VS, LINE_FS)
    this.buf = {}
    for (const k of ["corner", "pos", "color", "radius", "flag", "cell"]) this.buf[k] = gl.createBuffer()
    gl.enable(gl.DEPTH_TEST)
    this.canvas.dataset.webgl = this.gl2 ? "webgl2" : "webgl"
    this.allocated = -1
  }

  upload(name, data) {
    const gl = this.gl
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf[name])
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.DYNAMIC_DRAW)
  }

  setAtoms(n, positions, colors, radii, flags) {
    this.n = n
    this.scratch = {pos: new Float32Array(3 * VPA * n), color: new Uint8Array(3 * VPA * n),
      radius: new Float32Array(VPA * n), flag: new Uint8Array(VPA * n)}
    const corners = new Float32Array(2 * VPA * n)
    for (let i = 0; i < corners.length; i++) corners[i] = CORNERS[i % CORNERS.length]
    this.upload("corner", corners)
    this.positions = positions && positions.length === 3 * n ? positions : new Float32Array(3 * n)
    this.upload("pos", expand(this.positions, 3, this.scratch.pos))
    this.upload("color", expand(colors && colors.length === 3 * n ? colors : new Uint8Array(3 * n).fill(200), 3, this.scratch.color))
    this.radii = radii && radii.length === n ? radii : new Float32Array(n).fill(0.5)
    this.upload("radius", expand(this.radii, 1, this.scratch.radius))
    this.setFlags(flags)
    this.updateBounds()
  }

  setPositions(positions) {
    if (!positions || positions.length !== 3 * this.n) return
    this.positions = positions
    this.upload("pos", expand(positions, 3, this.scratch.pos))
  }

  setColors(colors) {
    if (!colors || colors.length !== 3 * this.n) return
    this.upload("color", expand(colors, 3, this.scratch.color))
  }

  setRadii(radii) {
    if (!radii || radii.length !== this.n) return
    this.radii = radii
    this.upload("radius", expand(radii, 1, this.scratch.radius))
    this.updateBounds()
  }

  setFlags(flags) {
    const ok = flags && flags.length === this.n
    this.opts.hl = !!ok
    this.upload("flag", ok ? expand(flags, 1, this.scratch.flag) : this.scratch.flag.fill(0))
  }

  setCell(cell) {
    this.cell = cell && cell.length === 9 && cell.some((v) => v !== 0) ? Array.from(cell) : null
    if (!this.cell) return
    const [a, b, c] = [this.cell.slice(0, 3), this.cell.slice(3, 6), this.cell.slice(6, 9)]
    const corner = (i, j, k) => [0, 1, 2].map((d) => i * a[d] + j * b[d] + k * c[d])
    const v = []
    for (const [p, q] of [[[0, 0, 0], [1, 0, 0]], [[0, 1, 0], [1, 1, 0]], [[0, 0, 1], [1, 0, 1]], [[0, 1, 1], [1, 1, 1]],
      [[0, 0, 0], [0, 1, 0]], [[1, 0, 0], [1, 1, 0]], [[0, 0, 1], [0, 1, 1]], [[1, 0, 1], [1, 1, 1]],
      [[0, 0, 0], [0, 0, 1]], [[1, 0, 0], [1, 0, 1]], [[0, 1, 0], [0, 1, 1]], [[1, 1, 0], [1, 1, 1]]]) {
      v.push(...corner(...p), ...corner(...q))
    }
    const gl = this.gl
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf.cell)
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(v), gl.DYNAMIC_DRAW)
  }

  // bounding sphere of the cell and the atoms (for camera fitting and clip planes)
  updateBounds() {
    const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity]
    const grow = (x, y, z) => {
      if (x < lo[0]) lo[0] = x; if (y < lo[1]) lo[1] = y; if (z < lo[2]) lo[2] = z
      if (x > hi[0]) hi[0] = x; if (y > hi[1]) hi[1] = y; if (z > hi[2]) hi[2] = z
    }
    const P = this.positions
    if (P) for (let i = 0; i + 2 < P.length; i += 3) grow(P[i], P[i + 1], P[i + 2])
    let maxR = 0
    if (this.radii) for (let i = 0; i < this.radii.length; i++) maxR = Math.max(maxR, this.radii[i])
    let center
    if (this.cell) {
      const C = this.cell
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) {
        grow(i * C[0] + j * C[3] + k * C[6], i * C[1] + j * C[4] + k * C[7], i * C[2] + j * C[5] + k * C[8])
      }
      center = [0, 1, 2].map((d) => 0.5 * (C[d] + C[3 + d] + C[6 + d]))
    }
    if (!Number.isFinite(lo[0])) { lo.fill(-1); hi.fill(1) }
    if (!center) center = [0, 1, 2].map((d) => 0.5 * (lo[d] + hi[d]))
    let r = 0
    for (const x of [lo[0], hi[0]]) for (const y of [lo[1], hi[1]]) for (const z of [lo[2], hi[2]]) {
      r = Math.max(r, Math.hypot(x - center[0], y - center[1], z - center[2]))
    }
    this.bounds = {center, radius: Math.max(r, 1), maxRadius: maxR}
  }

  resetView() {
    this.updateBounds()
    this.rot = DEFAULT_ROT.slice()
    this.target = this.bounds.center.slice()
    const R = this.bounds.radius + this.bounds.maxRadius * this.opts.scale
    this.dist = 1.05 * R / Math.sin(FOV_Y / 2)
    this.fitDist = this.dist
  }

  rotate(dx, dy) {
    const len = Math.hypot(dx, dy)
    if (len === 0) return
    const h = Math.max(1, Math.min(this.canvas.clientWidth, this.canvas.clientHeight))
    this.rot = orthonormalize(mul3(axisAngle(dy / len, dx / len, 0, 2.5 * len / h), this.rot))
  }

  pan(dx, dy) {
    const s = 2 * this.dist * Math.tan(FOV_Y / 2) / Math.max(1, this.canvas.clientHeight)
    const R = this.rot, vx = -dx * s, vy = dy * s
    for (let k = 0; k < 3; k++) this.target[k] += R[k] * vx + R[3 + k] * vy
  }

  zoom(factor) {
    const f = this.fitDist || this.dist
    this.dist = Math.min(20 * f, Math.max(0.02 * f, this.dist * factor))
  }

  resize() {
    const dpr = Math.min(window.devicePixelRatio || 1, MAX_DPR)
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr))
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr))
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h }
  }

  draw() {
    const gl = this.gl
    this.resize()
    const w = this.canvas.width, h = this.canvas.height
    gl.viewport(0, 0, w, h)
    const bg = this.opts.bg
    gl.clearColor(bg[0], bg[1], bg[2], 1)
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT)
    const view = viewMatrix(this.rot, this.target, this.dist)
    const c = this.bounds.center
    const R = this.bounds.radius + this.bounds.maxRadius * this.opts.scale + 1
    const dc = Math.hypot(...[0, 1, 2].map((i) => view[i] * c[0] + view[4 + i] * c[1] + view[8 + i] * c[2] + view[12 + i]))
    const far = dc + R
    const aspect = w / h
    let proj
    if (this.opts.ortho) {
      const hh = this.dist * Math.tan(FOV_Y / 2)
      proj = orthographic(hh * aspect, hh, dc - R, far)
    } else {
      proj = perspective(FOV_Y, aspect, Math.max(dc - R, far * 1e-3), far)
    }
    if (this.n > 0) this.drawSpheres(view, proj)
    if (this.opts.showCell && this.cell) this.drawCell(view, proj)
  }

  bindAttr(loc, buf, size, type, normalized) {
    if (loc === undefined || loc < 0) return
    const gl = this.gl
    gl.bindBuffer(gl.ARRAY_BUFFER, buf)
    gl.enableVertexAttribArray(loc)
    gl.vertexAttribPointer(loc, size, type, normalized, 0, 0)
  }

  drawSpheres(view, proj) {
    const gl = this.gl, P = this.sphere, a = P.attr, u = P.uni
    gl.useProgram(P.prog)
    this.bindAttr(a.a_corner, this.buf.corner, 2, gl.FLOAT, false)
    this.bindAttr(a.a_center, this.buf.pos, 3, gl.FLOAT, false)
    this.bindAttr(a.a_color, this.buf.color, 3, gl.UNSIGNED_BYTE, true)
    this.bindAttr(a.a_radius, this.buf.radius, 1, gl.FLOAT, false)
    this.bindAttr(a.a_flag, this.buf.flag, 1, gl.UNSIGNED_BYTE, true)
    gl.uniformMatrix4fv(u.u_view, false, view)
    gl.uniformMatrix4fv(u.u_proj, false, proj)
    gl.uniform1f(u.u_scale, this.opts.scale)
    gl.uniform1f(u.u_ortho, this.opts.ortho ? 1 : 0)
    if (u.u_hl) gl.uniform1f(u.u_hl, this.opts.hl ? 1 : 0)
    if (u.u_bg) gl.uniform3fv(u.u_bg, this.opts.bg)
    if (u.u_hl_color) gl.uniform3fv(u.u_hl_color, HIGHLIGHT_RGB)
    gl.drawArrays(gl.TRIANGLES, 0, VPA * this.n)
    for (const loc of Object.values(a)) gl.disableVertexAttribArray(loc)
  }

  drawCell(view, proj) {
    const gl = this.gl, P = this.line
    gl.useProgram(P.prog)
    this.bindAttr(P.attr.a_pos, this.buf.cell, 3, gl.FLOAT, false)
    gl.uniformMatrix4fv(P.uni.u_view, false, view)
    gl.uniformMatrix4fv(P.uni.u_proj, false, proj)
    const bg = this.opts.bg, lum = 0.3 * bg[0] + 0.59 * bg[1] + 0.11 * bg[2]
    gl.uniform3fv(P.uni.u_color, lum > 0.5 ? [0.25, 0.25, 0.3] : [0.8, 0.8, 0.85])
    gl.drawArrays(gl.LINES, 0, 24)
    gl.disableVertexAttribArray(P.attr.a_pos)
  }

  dispose() {
    const ext = this.gl && this.gl.getExtension("WEBGL_lose_context")
    if (ext) ext.loseContext()
  }
}

// ---- interaction ------------------------------------------------------------------
function attachControls(canvas, renderer, redraw) {
  let drag = null
  canvas.addEventListener("contextmenu", (e) => e.preventDefault())
  canvas.addEventListener("pointerdown", (e) => {
    const pan = e.button === 2 || e.button === 1 || e.shiftKey
    drag = {x: e.clientX, y: e.clientY, pan, id: e.pointerId}
    canvas.setPointerCapture(e.pointerId)
    e.preventDefault()
  })
  canvas.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y
    drag.x = e.clientX; drag.y = e.clientY
    if (drag.pan || e.shiftKey) renderer.pan(dx, dy)
    else renderer.rotate(dx, dy)
    redraw()
  })
  const end = (e) => {
    if (drag && e.pointerId === drag.id) { drag = null; canvas.releasePointerCapture(e.pointerId) }
  }
  canvas.addEventListener("pointerup", end)
  canvas.addEventListener("pointercancel", end)
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault()
    const dy = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY
    renderer.zoom(Math.exp(dy * 0.0015))
    redraw()
  }, {passive: false})
  canvas.addEventListener("dblclick", (e) => { e.preventDefault(); renderer.resetView(); redraw() })
}

// ---- Panel entry point ------------------------------------------------------------
export function render({model, el}) {
  const wrap = document.createElement("div")
  wrap.style.cssText = "position:relative;width:100%;height:100%;min-height:120px;overflow:hidden"
  const canvas = document.createElement("canvas")
  canvas.style.cssText = "display:block;width:100%;height:100%;touch-action:none;outline:none;cursor:grab"
  canvas.className = "ssestudio-structure-canvas"
  canvas.dataset.drawCount = "0"
  wrap.appendChild(canvas)
  el.style.width = "100%"
  el.style.height = "100%"

  let renderer
  try {
    renderer = new Renderer(canvas)
  } catch (err) {
    const msg = document.createElement("div")
    msg.textContent = "3D view unavailable: " + err.message
    msg.style.cssText = "padding:1em;color:#a00;font:14px sans-serif"
    wrap.appendChild(msg)
    canvas.dataset.webgl = "none"
    return wrap
  }

  // state: what is stale since the last draw
  const dirty = {structure: true, positions: false, colors: false, radii: false, flags: false, cell: false}
  let frame = model.frame
  let drawCount = 0
  let pending = false

  function options() {
    renderer.opts.bg = hexRgb(model.background)
    renderer.opts.scale = model.atom_scale
    renderer.opts.showCell = model.show_cell
    renderer.opts.ortho = model.orthographic
  }
  function sync() {
    if (dirty.structure) {
      renderer.setCell(model.cell)
      renderer.setAtoms(model.n_atoms, decodeF32(model.positions_b64), decodeU8(model.colors_b64),
        decodeF32(model.radii_b64), decodeU8(model.highlight_b64))
      frame = model.frame
      options()
      renderer.resetView()
      Object.keys(dirty).forEach((k) => { dirty[k] = false })
    }
    if (dirty.cell) renderer.setCell(model.cell)
    if (dirty.positions) { renderer.setPositions(decodeF32(model.positions_b64)); frame = model.frame }
    if (dirty.colors) renderer.setColors(decodeU8(model.colors_b64))
    if (dirty.radii) renderer.setRadii(decodeF32(model.radii_b64))
    if (dirty.flags) renderer.setFlags(decodeU8(model.highlight_b64))
    Object.keys(dirty).forEach((k) => { dirty[k] = false })
  }
  function draw() {
    pending = false
    if (renderer.gl.isContextLost()) return
    sync()
    options()
    renderer.draw()
    drawCount += 1
    canvas.dataset.frame = String(frame)
    canvas.dataset.nAtoms = String(renderer.n)
    canvas.dataset.drawCount = String(drawCount)
  }
  function redraw() {
    if (!pending) { pending = true; requestAnimationFrame(draw) }
  }
  const mark = (key) => () => { dirty[key] = true; redraw() }

  model.on(["structure_id", "n_atoms"], mark("structure"))
  model.on("positions_b64", mark("positions"))
  model.on("frame", mark("positions"))
  model.on("cell", mark("cell"))
  model.on("colors_b64", mark("colors"))
  model.on("radii_b64", mark("radii"))
  model.on("highlight_b64", mark("flags"))
  model.on(["background", "atom_scale", "show_cell", "orthographic"], redraw)

  attachControls(canvas, renderer, redraw)
  canvas.addEventListener("webglcontextlost", (e) => e.preventDefault())
  canvas.addEventListener("webglcontextrestored", () => { renderer.initGL(); dirty.structure = true; redraw() })
  const observer = new ResizeObserver(() => redraw())
  observer.observe(wrap)
  model.on("remove", () => { observer.disconnect(); renderer.dispose() })
  redraw()
  return wrap
}
