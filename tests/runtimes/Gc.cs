// Mono under mode=enforce (tests/integration/test-runtimes.c): SGen
// suspends the allocating threads for each collection with its own signals.
using System;
using System.Threading;
class Gc {
    static int Main() {
        long total = 0;
        var ts = new Thread[4];
        for (int i = 0; i < 4; i++) {
            ts[i] = new Thread(() => {
                long s = 0;
                for (int j = 0; j < 200000; j++) { var a = new int[16]; a[3] = j; s += a[3] % 7; }
                Interlocked.Add(ref total, s);
            });
            ts[i].Start();
        }
        for (int k = 0; k < 20; k++) GC.Collect();
        foreach (var t in ts) t.Join();
        Console.WriteLine("total " + total + " gcs>0 " + (GC.CollectionCount(0) > 0));
        return 4;
    }
}
