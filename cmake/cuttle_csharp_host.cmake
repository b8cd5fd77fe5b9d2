# The C# script host (bootstrappers/csharp-host/): the .NET program `cuttle run` starts for .csx scripts
# (`dotnet {libexec}/csharp-host/cuttle-csharp-host.dll`). Included from bootstrappers/CMakeLists.txt: when
# the .NET SDK's `dotnet` is found (option CUTTLE_CSHARP_HOST), target `cuttle_csharp_host` (part of ALL)
# builds it into <build>/lib/cuttle/csharp-host, and install() copies it to <prefix>/lib/cuttle/csharp-host,
# where the runner looks for it (beside bin/). Without dotnet nothing is built and C# scripts report the host
# missing; their tests skip.
#
# The same file is also the build step itself, run as `cmake -P` (script mode, below): a ReadyToRun publish
# (precompiled Roslyn: about 0.5 s less start-up per script), or a plain `dotnet build` when the ReadyToRun
# pack cannot be restored. All intermediate files (obj/, bin/) go under <build>/csharp-host, so build
# directories never share them and two of them can build at once; the source tree stays clean.

if(CMAKE_SCRIPT_MODE_FILE)
  # Script mode. Inputs: DOTNET, PROJECT_FILE, OUTPUT_DIR, WORK_DIR, STAMP.
  foreach(input DOTNET PROJECT_FILE OUTPUT_DIR WORK_DIR STAMP)
    if(NOT DEFINED ${input})
      message(FATAL_ERROR "cuttle_csharp_host.cmake: -D${input}=... is required")
    endif()
  endforeach()
  set(ENV{DOTNET_CLI_TELEMETRY_OPTOUT} 1)
  set(ENV{DOTNET_NOLOGO} 1)
  set(ENV{DOTNET_SKIP_FIRST_TIME_EXPERIENCE} 1)
  # No MSBuild server, worker nodes or compiler server left running after the build.
  set(ENV{DOTNET_CLI_USE_MSBUILD_SERVER} 0)
  set(common_args -c Release -o ${OUTPUT_DIR} --nologo -nodeReuse:false -p:UseSharedCompilation=false)
  execute_process(
    COMMAND ${DOTNET} publish ${PROJECT_FILE} ${common_args} --use-current-runtime --self-contained false
            -p:PublishReadyToRun=true --artifacts-path ${WORK_DIR}/ready-to-run
    RESULT_VARIABLE status OUTPUT_VARIABLE log ERROR_VARIABLE log)
  if(NOT status EQUAL 0)
    message(STATUS "${log}")
    message(STATUS "cuttle: the ReadyToRun publish of the C# script host failed (above); building it without "
                   "ReadyToRun (scripts start about 0.5 s slower)")
    execute_process(
      COMMAND ${DOTNET} build ${PROJECT_FILE} ${common_args} --artifacts-path ${WORK_DIR}/plain
      RESULT_VARIABLE status OUTPUT_VARIABLE log ERROR_VARIABLE log)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "${log}\ncuttle: building the C# script host with ${DOTNET} failed (above). Its first "
                          "build restores Microsoft.CodeAnalysis.CSharp.Scripting from the NuGet feed; configure "
                          "with -DCUTTLE_CSHARP_HOST=OFF to build cuttle without C# script support.")
    endif()
  endif()
  file(TOUCH ${STAMP})
  return()
endif()

find_program(CUTTLE_DOTNET_EXECUTABLE dotnet DOC "The .NET SDK's dotnet, which builds the C# script host")
if(CUTTLE_DOTNET_EXECUTABLE)
  set(cuttle_csharp_host_default ON)
else()
  set(cuttle_csharp_host_default OFF)
endif()
option(CUTTLE_CSHARP_HOST "Build the C# script host for .csx scripts (needs the .NET SDK)"
       ${cuttle_csharp_host_default})

if(NOT CUTTLE_CSHARP_HOST)
  message(STATUS "cuttle: not building the C# script host (CUTTLE_CSHARP_HOST is OFF); C# scripts (.csx) will "
                 "not run and their tests skip")
  return()
endif()
if(NOT CUTTLE_DOTNET_EXECUTABLE)
  message(WARNING "cuttle: CUTTLE_CSHARP_HOST is ON but dotnet (the .NET SDK) was not found; not building the "
                  "C# script host, so C# scripts (.csx) will not run and their tests skip")
  return()
endif()
message(STATUS "cuttle: building the C# script host with ${CUTTLE_DOTNET_EXECUTABLE}")

set(cuttle_csharp_host_source_dir ${PROJECT_SOURCE_DIR}/bootstrappers/csharp-host)
set(CUTTLE_CSHARP_HOST_OUTPUT_DIR ${CMAKE_BINARY_DIR}/lib/cuttle/csharp-host)
set(cuttle_csharp_host_work_dir ${CMAKE_BINARY_DIR}/csharp-host)
set(cuttle_csharp_host_stamp ${cuttle_csharp_host_work_dir}/cuttle-csharp-host.stamp)
file(GLOB cuttle_csharp_host_sources CONFIGURE_DEPENDS ${cuttle_csharp_host_source_dir}/*.cs
     ${cuttle_csharp_host_source_dir}/*.csproj)

add_custom_command(
  OUTPUT ${cuttle_csharp_host_stamp}
  BYPRODUCTS ${CUTTLE_CSHARP_HOST_OUTPUT_DIR}/cuttle-csharp-host.dll
  COMMAND ${CMAKE_COMMAND} -DDOTNET=${CUTTLE_DOTNET_EXECUTABLE}
          -DPROJECT_FILE=${cuttle_csharp_host_source_dir}/cuttle-csharp-host.csproj
          -DOUTPUT_DIR=${CUTTLE_CSHARP_HOST_OUTPUT_DIR} -DWORK_DIR=${cuttle_csharp_host_work_dir}
          -DSTAMP=${cuttle_csharp_host_stamp} -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${cuttle_csharp_host_sources} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Building the C# script host (dotnet publish)"
  VERBATIM)
add_custom_target(cuttle_csharp_host ALL DEPENDS ${cuttle_csharp_host_stamp})

if(CUTTLE_INSTALL)
  # Literally lib/, not CMAKE_INSTALL_LIBDIR (lib64, lib/x86_64-linux-gnu): the runner finds the host at
  # <dir of cuttle>/../lib/cuttle.
  install(DIRECTORY ${CUTTLE_CSHARP_HOST_OUTPUT_DIR}/ DESTINATION lib/cuttle/csharp-host USE_SOURCE_PERMISSIONS)
endif()
