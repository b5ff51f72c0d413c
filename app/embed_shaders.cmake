# Writes OUT, a header with each shader file as a raw string literal (image.vert -> image_vert):
# the fallback used when the shaders/ directory cannot be found at run time.
# Called as: cmake -DOUT=... -DFILES=a;b -P embed_shaders.cmake
set(text "#pragma once\n// Generated from shaders/ at build time. Do not edit.\nnamespace embedded_shaders {\n")
foreach(file IN LISTS FILES)
  get_filename_component(name "${file}" NAME)
  string(REGEX REPLACE "[^A-Za-z0-9]" "_" id "${name}")
  file(READ "${file}" body)
  string(APPEND text "inline constexpr const char* ${id} = R\"GLSL(${body})GLSL\";\n")
endforeach()
string(APPEND text "}  // namespace embedded_shaders\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
