// Tests of cask::event (issue 4): being written.
