// Tests of cask::variable (issue 4): being written.
