{
  # Builds build/Release/honker_ext.node, the SQLite loadable extension: `npm install`
  # compiles it where no prebuilt library matches (scripts/install.mjs), and
  # prebuildify builds the prebuilt ones from it (scripts/prebuild.ts).
  # It is not a Node addon: node-gyp is only the C toolchain driver here, and
  # the ".node" name only lets prebuildify find and tag it. To SQLite it is a
  # shared library like any other; its base name honker_ext gives the entry
  # point sqlite3_honkerext_init.
  # Sources are found by listing ext/*.c, so adding a file needs no edit here.
  "targets": [
    {
      "target_name": "honker_ext",
      "type": "shared_library",
      "product_prefix": "",
      "product_extension": "node",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('ext').filter(f => f.endsWith('.c')).sort().map(f => 'ext/' + f).join(' ')\")"
      ],
      "include_dirs": [
        # sqlite3ext.h: better-sqlite3 ships SQLite's headers with its amalgamation.
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3')\")"
      ],
      # -Werror only where HONKER_WERROR=1 (scripts/build.ts, CI): a user's newer compiler may
      # warn about something new, and that must not break their install.
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden", "-O2",
                 "<!@(node -p \"process.env.HONKER_WERROR === '1' ? '-Werror' : ''\")"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden",
                         "<!@(node -p \"process.env.HONKER_WERROR === '1' ? '-Werror' : ''\")"],
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
      }
    }
  ]
}
