//! Twin of the first example on asyncio's "Coroutines and Tasks" page: print "hello", wait one
//! second, print "world".
//!
//! `#[tether::main]` plays the part of `asyncio.run(main())`: it starts an event loop, runs
//! `main` on it to the end, and shuts the loop down.

use std::time::Duration;

#[tether::main]
async fn main() {
    println!("hello");
    tether::sleep(Duration::from_secs(1)).await;
    println!("world");
}
