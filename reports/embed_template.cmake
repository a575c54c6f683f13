# Turns a text file into a C++ header holding it as a raw string literal:
#   cmake -DINPUT=file.html -DOUTPUT=out.inc -DSYMBOL=kName -P embed_template.cmake
# The output declares `inline constexpr std::string_view SYMBOL`. The delimiter must not occur in
# the template (checked).
file(READ ${INPUT} content)
string(FIND "${content}" ")tmpl\"" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )tmpl\"")
endif()
file(WRITE ${OUTPUT}.tmp
  "// Generated from ${INPUT} by embed_template.cmake; do not edit.\n"
  "#pragma once\n#include <string_view>\n"
  "inline constexpr std::string_view ${SYMBOL} = R\"tmpl(${content})tmpl\";\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
