#!/bin/bash -eu
# ClusterFuzzLite entry point: the OSS-Fuzz build script is the one build.
exec "$SRC/mcpcert/fuzz/oss-fuzz/build.sh"
