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
