{
  # Builds libhonker_ext.so, the SQLite loadable extension, during `npm install`.
  # It is not a Node addon: node-gyp is only the C toolchain driver here.
  # Sources are found by listing ext/*.c, so adding a file needs no edit here.
  "targets": [
    {
      "target_name": "honker_ext",
      "type": "shared_library",
      "product_prefix": "lib",
      "product_extension": "so",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('ext').filter(f => f.endsWith('.c')).sort().map(f => 'ext/' + f).join(' ')\")"
      ],
      "include_dirs": [
        # sqlite3ext.h: better-sqlite3 ships SQLite's headers with its amalgamation.
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3')\")"
      ],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-O2"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
      },
      "conditions": [
        ["OS=='mac'", { "product_extension": "dylib" }]
      ]
    }
  ]
}
