#pragma once
// GLSL programs from shaders/ (a_ attributes, v_ varyings, u_ uniforms), with the copies embedded
// at build time as the fallback. Main thread only, like every GL call.
#include <imgui.h>

#include <array>
#include <string>

namespace latent::app {

struct BuiltProgram {
  unsigned id = 0;      // 0: neither the files nor the embedded copy built
  std::string source;   // the directory the shaders came from, or "embedded"
  std::string problem;  // "" or what failed (a file that failed still leaves the embedded copy)
};

// Builds <shader_dir>/<name>.vert + <name>.frag, else the embedded pair; `defines` (lines such as
// "#define COLORMAP 1\n") go right after each file's #version line.
BuiltProgram build_program(const std::string& shader_dir, const std::string& name, const char* embedded_vert,
                           const char* embedded_frag, const std::string& defines = "");

// ImGui's orthographic projection for `frame` (DisplayPos at the top left, DisplaySize across),
// column-major for glUniformMatrix4fv: what ImGui's OpenGL3 backend sets up.
std::array<float, 16> imgui_projection(const ImDrawData& frame);

}  // namespace latent::app
