# Installs the libraries, the header, alexnet.pc and the CMake package (find_package(alexnet)
# gives alexnet::alexnet, the shared library, and alexnet::alexnet_static).
set(ALEXNET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/alexnet)

install(TARGETS alexnet EXPORT alexnetTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${ALEXNET_STATIC_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/alexnet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The converters (Python, on /usr/bin/python3 with Debian's python3-torch and python3-onnx) go to
# share/alexnet/tools beside the module they share, and bin/ gets links with names that cannot
# clash: alexnet-convert-torchvision, alexnet-convert-onnx, alexnet-export-onnx.
set(ALEXNET_TOOLS_DIR ${CMAKE_INSTALL_DATADIR}/alexnet/tools)
install(PROGRAMS tools/convert_torchvision.py tools/convert_onnx.py tools/export_onnx.py
  DESTINATION ${ALEXNET_TOOLS_DIR})
install(FILES tools/model_files.py DESTINATION ${ALEXNET_TOOLS_DIR})
foreach(tool convert_torchvision convert_onnx export_onnx)
  string(REPLACE "_" "-" _program "alexnet-${tool}")
  install(CODE "
    set(_bin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    file(MAKE_DIRECTORY \"\${_bin}\")
    file(RELATIVE_PATH _target \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\"
      \"\${CMAKE_INSTALL_PREFIX}/${ALEXNET_TOOLS_DIR}/${tool}.py\")
    file(CREATE_LINK \"\${_target}\" \"\${_bin}/${_program}\" SYMBOLIC)
    message(STATUS \"Installing: \${_bin}/${_program} -> \${_target}\")")
endforeach()

install(EXPORT alexnetTargets NAMESPACE alexnet:: DESTINATION ${ALEXNET_CMAKE_DIR})
configure_package_config_file(cmake/alexnetConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/alexnetConfig.cmake
  INSTALL_DESTINATION ${ALEXNET_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/alexnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/alexnetConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/alexnetConfigVersion.cmake
  DESTINATION ${ALEXNET_CMAKE_DIR})

# pkg-config: a shared link needs only -lalexnet (alexnet.pc); a static one names the archive and
# needs the dependencies and system libraries too (alexnet-static.pc).
list(JOIN ALEXNET_PC_MODULES " " ALEXNET_PC_REQUIRES_PRIVATE)
set(ALEXNET_PC_LIBS_PRIVATE "-lpthread -lm")
file(RELATIVE_PATH ALEXNET_PC_RELATIVE_PREFIX
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(pkgconfig/alexnet.pc.in ${CMAKE_CURRENT_BINARY_DIR}/alexnet.pc @ONLY)
# alexnet-static: the archive by path, for `cc app.c $(pkg-config --cflags --libs alexnet-static)`.
configure_file(pkgconfig/alexnet-static.pc.in ${CMAKE_CURRENT_BINARY_DIR}/alexnet-static.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/alexnet.pc ${CMAKE_CURRENT_BINARY_DIR}/alexnet-static.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python package, on request: `cmake --install build --component python [--prefix P]` puts
# bindings/python/alexnet under P/ALEXNET_PYTHON_DIR (by default the directory Debian's Python
# searches under /usr/local) and records the installed library's directory in
# alexnet/_install.py, so the package loads that library from anywhere.
execute_process(COMMAND /usr/bin/python3 -c
  "import sys; print('lib/python%d.%d/dist-packages' % sys.version_info[:2])"
  OUTPUT_VARIABLE _alexnet_python_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _alexnet_python_dir)
  set(_alexnet_python_dir lib/python3/dist-packages)
endif()
set(ALEXNET_PYTHON_DIR ${_alexnet_python_dir} CACHE STRING
  "Where `cmake --install --component python` puts the Python package, relative to the prefix")
install(DIRECTORY bindings/python/alexnet DESTINATION ${ALEXNET_PYTHON_DIR}
  COMPONENT python EXCLUDE_FROM_ALL
  FILES_MATCHING PATTERN "*.py" PATTERN "_install.py" EXCLUDE PATTERN "__pycache__" EXCLUDE)
install(CODE "
  set(_dir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${ALEXNET_PYTHON_DIR}/alexnet/_install.py\"
    \"\\\"\\\"\\\"Written by cmake --install: where libalexnet was installed.\\\"\\\"\\\"\\nLIBRARY_DIR = '\${_dir}'\\n\")
  " COMPONENT python EXCLUDE_FROM_ALL)

# Manual pages, from each program's --help (Debian's help2man), where help2man is found: for
# alexnet-classify always, for the converters where /usr/bin/python3 can import what they need.
find_program(ALEXNET_HELP2MAN help2man)
if(ALEXNET_HELP2MAN AND ALEXNET_BUILD_EXAMPLES)
  set(_alexnet_man_dir ${CMAKE_CURRENT_BINARY_DIR}/man)
  file(MAKE_DIRECTORY ${_alexnet_man_dir})
  set(_alexnet_man_pages ${_alexnet_man_dir}/alexnet-classify.1)
  add_custom_command(OUTPUT ${_alexnet_man_dir}/alexnet-classify.1
    COMMAND ${ALEXNET_HELP2MAN} --no-info --version-string=${PROJECT_VERSION}
      --name "classify images with an AlexNet model saved by libalexnet"
      --output ${_alexnet_man_dir}/alexnet-classify.1 $<TARGET_FILE:classify>
    DEPENDS classify VERBATIM)
  execute_process(COMMAND /usr/bin/python3 -c "import onnx, torch, numpy"
    RESULT_VARIABLE _alexnet_tools_import OUTPUT_QUIET ERROR_QUIET)
  if(_alexnet_tools_import EQUAL 0)
    set(_name_convert_torchvision "convert a torchvision AlexNet checkpoint to a libalexnet model")
    set(_name_convert_onnx "convert an AlexNet-shaped ONNX graph to a libalexnet model")
    set(_name_export_onnx "write a libalexnet model as an ONNX graph")
    foreach(tool convert_torchvision convert_onnx export_onnx)
      string(REPLACE "_" "-" _program "alexnet-${tool}")
      # run through a link of the installed name, so that the page is under that name
      file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/tools/${tool}.py ${_alexnet_man_dir}/${_program}
        SYMBOLIC)
      add_custom_command(OUTPUT ${_alexnet_man_dir}/${_program}.1
        COMMAND ${ALEXNET_HELP2MAN} --no-info --no-discard-stderr
          --version-string=${PROJECT_VERSION} --name ${_name_${tool}}
          --output ${_alexnet_man_dir}/${_program}.1 ${_alexnet_man_dir}/${_program}
        DEPENDS tools/${tool}.py tools/model_files.py VERBATIM)
      list(APPEND _alexnet_man_pages ${_alexnet_man_dir}/${_program}.1)
    endforeach()
  endif()
  add_custom_target(alexnet_man_pages ALL DEPENDS ${_alexnet_man_pages})
  install(FILES ${_alexnet_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found (Debian: help2man): no manual pages")
endif()
