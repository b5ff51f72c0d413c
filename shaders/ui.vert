#version 330 core
// ImGui's triangles (text, widgets, plots, the scatter's picture): its vertex layout at locations
// 0, 1, 2, shared with image.vert so the two programs can take turns within one draw list.
layout (location = 0) in vec2 a_position;
layout (location = 1) in vec2 a_uv;
layout (location = 2) in vec4 a_color;

uniform mat4 u_projection;

out vec2 v_uv;
out vec4 v_color;

void main() {
  v_uv = a_uv;
  v_color = a_color;
  gl_Position = u_projection * vec4(a_position, 0.0, 1.0);
}
