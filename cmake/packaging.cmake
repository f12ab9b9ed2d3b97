# SPDX-License-Identifier: MIT
# Debian packages, one per component (`make package`, docs/PACKAGING.md):
#   spa-server            spad, its unit, man page, example configuration
#   spa-client            spa-client
#   spa-plugin-<name>     one per Linux backend plugin, and the etcd state
#                         store of cluster mode (docs/CLUSTER.md)
#   libspa-plugin-dev     the plugin SDK: header, pkg-config file, examples
# Run-time libraries are found by dpkg-shlibdeps; what a plugin runs or
# talks to (a program, a daemon) is declared here. ipfw and pf are BSD
# backends: a BSD port packages them (docs/PACKAGING.md).
set(SPA_DEB_PLUGINS iptables nftables ipset firewalld cmdcycle cmdexec etcd)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spa)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "spa maintainers <maintainers@spa.invalid>")
set(CPACK_PACKAGE_VENDOR "spa")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://spa.invalid/")
set(CPACK_STRIP_FILES ON)
# absolute destinations (/etc/spa, the unit) need a DESTDIR install
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_COMPONENTS_ALL engine client sdk)
set(CPACK_DEBIAN_ENGINE_PACKAGE_NAME spa-server)
set(CPACK_DEBIAN_ENGINE_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_ENGINE_PACKAGE_RECOMMENDS "spa-plugin-iptables | spa-plugin-nftables")
set(CPACK_DEBIAN_ENGINE_PACKAGE_SUGGESTS "gnupg, spa-client")
set(CPACK_COMPONENT_ENGINE_DESCRIPTION
    "Single Packet Authorization daemon (fwknopd compatible)
 spad keeps services behind a default-drop firewall and opens them, for a
 limited time, to the address of a user who sends one encrypted,
 authenticated, non-replayable UDP packet. It reads fwknopd.conf and
 access.conf syntax and accepts fwknop 2.6 clients. Firewall backends are
 plugins, in the spa-plugin-* packages.")
set(CPACK_DEBIAN_ENGINE_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/debian/server/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/scripts/debian/server/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/scripts/debian/server/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/scripts/debian/server/postrm)

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME spa-client)
set(CPACK_DEBIAN_CLIENT_PACKAGE_SECTION net)
set(CPACK_COMPONENT_CLIENT_DESCRIPTION
    "Single Packet Authorization client (fwknop compatible)
 spa-client sends the one encrypted, HMAC-authenticated packet that asks
 an SPA server (spad or fwknopd) to open a port for this host. It takes
 fwknop's options and ~/.fwknoprc.")

set(CPACK_DEBIAN_SDK_PACKAGE_NAME libspa-plugin-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_SDK_DESCRIPTION
    "Single Packet Authorization - plugin SDK
 The versioned header, pkg-config file and example plugins for writing
 spad backends (router ACLs, cloud security groups) and command modules
 out of tree.")

set(spa_plugin_iptables_depends "iptables")
set(spa_plugin_firewalld_depends "firewalld")
set(spa_plugin_ipset_depends "ipset")
set(spa_plugin_cmdexec_suggests "sudo")
foreach(p ${SPA_DEB_PLUGINS})
  if(NOT TARGET spa_${p} AND NOT TARGET ${p})
    continue()
  endif()
  string(TOUPPER "PLUGIN-${p}" c)
  list(APPEND CPACK_COMPONENTS_ALL plugin-${p})
  set(CPACK_DEBIAN_${c}_PACKAGE_NAME spa-plugin-${p})
  set(deps "spa-server (= ${PROJECT_VERSION})")
  if(spa_plugin_${p}_depends)
    string(APPEND deps ", ${spa_plugin_${p}_depends}")
  endif()
  set(CPACK_DEBIAN_${c}_PACKAGE_DEPENDS "${deps}")
  if(spa_plugin_${p}_suggests)
    set(CPACK_DEBIAN_${c}_PACKAGE_SUGGESTS "${spa_plugin_${p}_suggests}")
  endif()
  if(p STREQUAL "etcd")
    set(CPACK_COMPONENT_${c}_DESCRIPTION
        "Single Packet Authorization - etcd state store for spad clusters
 The state-store module of spad's cluster mode (STATE_STORE etcd): gateways
 share one replay cache and one set of grants in an etcd v3 cluster; see
 /usr/share/doc/spa-plugin-etcd/README.md.")
  else()
    set(CPACK_COMPONENT_${c}_DESCRIPTION
        "Single Packet Authorization - ${p} backend for spad
 The ${p} plugin of spad (FIREWALL_TYPE ${p}); see
 /usr/share/doc/spa-plugin-${p}/README.md.")
  endif()
  set(CPACK_DEBIAN_${c}_PACKAGE_CONTROL_EXTRA
      ${CMAKE_CURRENT_SOURCE_DIR}/scripts/debian/plugin/prerm)
  install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/plugins/${p}/README.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/../spa-plugin-${p} COMPONENT plugin-${p})
endforeach()

# Each package's copyright and changelog, as Debian policy wants them.
string(TIMESTAMP spa_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/debian/changelog
     "spa (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Release ${PROJECT_VERSION}.\n\n"
     " -- ${CPACK_PACKAGE_CONTACT}  ${spa_deb_date}\n")
execute_process(COMMAND gzip -9nc ${CMAKE_CURRENT_BINARY_DIR}/debian/changelog
                OUTPUT_FILE ${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.gz)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/debian/server/conffiles
     "/etc/spa/spad.conf\n/etc/spa/access.conf\n")
foreach(comp ${CPACK_COMPONENTS_ALL})
  string(TOUPPER ${comp} c)
  set(pkg ${CPACK_DEBIAN_${c}_PACKAGE_NAME})
  install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg} RENAME copyright
          COMPONENT ${comp})
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/debian/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg} COMPONENT ${comp})
endforeach()
# 0600 on purpose: the configuration holds keys
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/scripts/debian/server/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME spa-server
        COMPONENT engine)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/sdk/examples/
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libspa-plugin-dev/examples
        COMPONENT sdk)

include(CPack)
