# Installing, and the Debian package (scripts/package runs CPack): the two programs, the shaders,
# the demo scenes, the desktop entry and the icon, and the Debian docs a package carries.
include(GNUInstallDirs)
set(LATENT_SHARE ${CMAKE_INSTALL_DATADIR}/latent-explorer)
install(TARGETS latent-train RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(LATENT_BUILD_APP)
  install(TARGETS latent-explorer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/shaders/ DESTINATION ${LATENT_SHARE}/shaders)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/assets/scenes/ DESTINATION ${LATENT_SHARE}/scenes)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/latent-explorer.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/assets/icons/latent-explorer.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
# Debian wants its copyright file and a compressed changelog in the package's doc folder.
set(LATENT_DOC ${CMAKE_INSTALL_DATADIR}/doc/latent-explorer)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright DESTINATION ${LATENT_DOC})
set(LATENT_CHANGELOG_GZ ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${LATENT_CHANGELOG_GZ}
                   COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/changelog > ${LATENT_CHANGELOG_GZ}
                   DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(latent_changelog ALL DEPENDS ${LATENT_CHANGELOG_GZ})
install(FILES ${LATENT_CHANGELOG_GZ} DESTINATION ${LATENT_DOC})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME latent-explorer)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "Latent Explorer authors <latent-explorer@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "see and teach how a variational autoencoder learns")
set(CPACK_PACKAGE_DESCRIPTION "Latent Explorer trains variational autoencoders (an MLP, a convolutional
model, or a PyTorch model saved as TorchScript) on MNIST, Fashion-MNIST,
generated shapes or a folder of images, and shows the training live: the
loss split into reconstruction and KL, a latent pad that decodes as it is
dragged, the true posterior against q(z|x), the importance-weighted bound,
lessons, demos, a presentation mode and recordings for slides.
latent-train is the same engine from the command line.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the programs link (LibTorch, GLFW, giflib, libav...) from dpkg-shlibdeps; the
# font the UI draws with and the BLAS that makes training fast are found at run time, so named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, libopenblas0-pthread | libopenblas0, curl")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist")
set(CPACK_STRIP_FILES ON)
include(CPack)
