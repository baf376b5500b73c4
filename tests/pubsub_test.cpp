// Tests of cask::pubsub (issue 4): being written.
