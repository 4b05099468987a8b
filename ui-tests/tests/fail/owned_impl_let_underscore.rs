// On an `impl` block, `#[tether::owned]` checks every method, the user's own methods that
// return a `Task` included.

struct Server;

#[tether::owned]
impl Server {
    fn serve(&self) -> tether::Task<()> {
        tether::create_task(async {})
    }

    async fn accept(&self) {
        let _ = self.serve();
    }
}

fn main() {
    tether::run(Server.accept());
}
