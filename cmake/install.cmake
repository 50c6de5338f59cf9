# Install rules and the CMake package: `cmake --install build --prefix P` puts the pitlane CLI in
# P/bin and the deployable runtime (pitlane::runtime, with pitlane::onnx and pitlane::core) as
# static libraries, headers and P/lib/cmake/pitlane, so a C++ program can
#   find_package(pitlane REQUIRED)
#   target_link_libraries(app PRIVATE pitlane::runtime)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(lib core onnx runtime dnnl warnings)
  set_target_properties(pitlane_${lib} PROPERTIES EXPORT_NAME ${lib})
  add_library(pitlane::${lib} ALIAS pitlane_${lib})
endforeach()

install(TARGETS pitlane RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS pitlane_core pitlane_onnx pitlane_runtime pitlane_dnnl pitlane_warnings
        EXPORT pitlaneTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(folder core onnx runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/pitlane/${folder}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pitlane FILES_MATCHING PATTERN "*.h")
endforeach()
set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/pitlane)
install(EXPORT pitlaneTargets NAMESPACE pitlane:: DESTINATION ${package_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pitlaneConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/pitlaneConfig.cmake
                              INSTALL_DESTINATION ${package_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pitlaneConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pitlaneConfig.cmake
              ${PROJECT_BINARY_DIR}/pitlaneConfigVersion.cmake
        DESTINATION ${package_dir})
