#include "gl/program.h"

#include <glad/gl.h>

#include <fstream>
#include <sstream>

namespace latent::app {

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

unsigned compile(unsigned kind, const std::string& source, std::string& log) {
  unsigned shader = glCreateShader(kind);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  int ok = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char buf[2048];
    glGetShaderInfoLog(shader, sizeof buf, nullptr, buf);
    log = buf;
    glDeleteShader(shader);
    return 0;
  }
  return shader;
}

unsigned link(const std::string& vert, const std::string& frag, std::string& log) {
  unsigned vs = compile(GL_VERTEX_SHADER, vert, log);
  if (!vs) return 0;
  unsigned fs = compile(GL_FRAGMENT_SHADER, frag, log);
  if (!fs) {
    glDeleteShader(vs);
    return 0;
  }
  unsigned program = glCreateProgram();
  glAttachShader(program, vs);
  glAttachShader(program, fs);
  glLinkProgram(program);
  glDeleteShader(vs);
  glDeleteShader(fs);
  int ok = 0;
  glGetProgramiv(program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char buf[2048];
    glGetProgramInfoLog(program, sizeof buf, nullptr, buf);
    log = buf;
    glDeleteProgram(program);
    return 0;
  }
  return program;
}

}  // namespace

// GLSL wants #version first, so the defines go after it.
std::string with_defines(std::string source, const std::string& defines) {
  if (defines.empty()) return source;
  const size_t version = source.find("#version");
  const size_t line_end = version == std::string::npos ? std::string::npos : source.find('\n', version);
  if (line_end == std::string::npos) return defines + source;
  return source.insert(line_end + 1, defines);
}

std::array<float, 16> imgui_projection(const ImDrawData& frame) {
  const float L = frame.DisplayPos.x, R = frame.DisplayPos.x + frame.DisplaySize.x;
  const float T = frame.DisplayPos.y, B = frame.DisplayPos.y + frame.DisplaySize.y;
  return {2.0f / (R - L), 0, 0, 0, 0, 2.0f / (T - B), 0, 0, 0, 0, -1, 0, (R + L) / (L - R), (T + B) / (B - T), 0, 1};
}

BuiltProgram build_program(const std::string& shader_dir, const std::string& name, const char* embedded_vert,
                           const char* embedded_frag, const std::string& defines) {
  BuiltProgram out;
  std::string vert, frag, log;
  if (read_file(shader_dir + "/" + name + ".vert", vert) && read_file(shader_dir + "/" + name + ".frag", frag)) {
    out.id = link(with_defines(vert, defines), with_defines(frag, defines), log);
    if (out.id) {
      out.source = shader_dir;
      return out;
    }
    out.problem = name + " shaders in " + shader_dir + " failed (" + log + "); using the embedded copy";
  }
  out.id = link(with_defines(embedded_vert, defines), with_defines(embedded_frag, defines), log);
  if (!out.id) {
    out.problem = name + " shader failed to build: " + log;
    return out;
  }
  out.source = "embedded";
  return out;
}

}  // namespace latent::app
