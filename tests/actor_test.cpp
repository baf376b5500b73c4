// Tests of cask::actor (issue 4): being written.
