public class Busy {
    public static void main(String[] a) throws Exception {
        int n = a.length > 0 ? Integer.parseInt(a[0]) : 4;
        Thread[] t = new Thread[2];
        final long end = System.currentTimeMillis() + n * 1000L;
        for (int i = 0; i < 2; i++) { t[i] = new Thread(() -> { long x = 0; while (System.currentTimeMillis() < end) { x += Math.sqrt(x + 1); } if (x == 42) System.out.println(); }); t[i].start(); }
        for (Thread th : t) th.join();
        System.out.println("done");
    }
}
