# CMake generated Testfile for 
# Source directory: /work/main/checkers/log
# Build directory: /work/main/build/checkers/log
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
