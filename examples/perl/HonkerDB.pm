# Open app.db the honker way: shared by producer.pl and worker.pl.
package HonkerDB;
use strict;
use warnings;
use DBI;

# $HONKER_EXT_PATH, else ask the npm package where its library is.
sub extension_path {
    return $ENV{HONKER_EXT_PATH} if $ENV{HONKER_EXT_PATH};
    chomp(my $path = `npx honker extension-path`);
    die "npx honker extension-path failed: is honker installed here?\n" if $? != 0;
    return $path;
}

sub connect {
    my ($path) = @_;
    # AutoCommit: we write BEGIN/COMMIT ourselves (DBI's begin_work would be a deferred BEGIN).
    my $db = DBI->connect("dbi:SQLite:dbname=$path", '', '', { RaiseError => 1, AutoCommit => 1, PrintError => 0 });
    # DBD::SQLite binds every placeholder as TEXT, and honker's integer arguments refuse TEXT
    # ("id must be an integer (got TEXT '1')"): bind what looks like a number as a number.
    $db->{sqlite_see_if_its_a_number} = 1;
    $db->sqlite_busy_timeout(5000);           # wait for the write lock instead of failing at once
    $db->do('PRAGMA journal_mode = WAL');     # readers never block the writer
    $db->sqlite_enable_load_extension(1);
    $db->sqlite_load_extension(extension_path());
    $db->sqlite_enable_load_extension(0);
    $db->selectrow_array('SELECT honker_bootstrap()');   # honker's tables, once; cheap after that
    $db->do('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
    return $db;
}

1;
