import sun.misc.Signal;
public class Sig {
    static volatile int hup = 0;
    public static void main(String[] a) throws Exception {
        Signal.handle(new Signal("HUP"), s -> { hup++; });
        try { Signal.handle(new Signal("USR2"), s -> {}); System.out.println("usr2 handled"); }
        catch (IllegalArgumentException e) { System.out.println("usr2: " + e.getMessage()); }
        int npe = 0;
        for (int i = 0; i < 100000; i++) {
            try { String s = (i % 2 == 0) ? null : "x"; if (s.length() > 5) npe--; } catch (NullPointerException e) { npe++; }
        }
        System.out.println("npe " + npe);
        long pid = ProcessHandle.current().pid();
        for (int i = 0; i < 3; i++) { new ProcessBuilder("kill", "-HUP", "" + pid).start().waitFor(); }
        for (int t = 0; t < 200 && hup < 3; t++) Thread.sleep(10);
        System.out.println("hup " + hup);
        System.exit(7);
    }
}
