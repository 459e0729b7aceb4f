// The translation unit that builds the test executables' precompiled Catch2 header.
