[assembly: AssemblyFixture(typeof(Mailroom.Testing.PostgresFixture))]
