package dev.fabric.cli;

import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console in a real headless Chromium against a real local fabric (the registry in this JVM, the
 * spawner jar as a process, its members as processes): it shows the spawner, a queue spawned from
 * the page under it, the queue killed with SIGKILL going DEAD then RUNNING at incarnation 2 without a
 * reload, its page (history, role status, sessions), sessions added and removed, the member
 * restarted and stopped from the page, the filters, the keyboard, 200 % zoom, an unknown member id,
 * and no key material in anything the page sent or received. Each main view is saved as a
 * screenshot under target/console-screenshots/.
 */
@RequiresBrowser
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

    @RegisterExtension
    static final LocalFabric.PerClass fabric = new LocalFabric.PerClass();

    private static final Duration PATIENCE = Duration.ofSeconds(90);

    private static RunningConsole console;
    private static Chromium chromium;
    private static String queueId;

    @BeforeAll
    static void openTheConsole() throws Exception {
        // The page re-renders as the fabric changes: an element read a moment ago may be gone; read again.
        Awaitility.ignoreExceptionsByDefault();
        console = new RunningConsole(fabric.cli());
        chromium = new Chromium();
        chromium.driver.get(console.loginUrl());
        await().atMost(PATIENCE).until(() -> "true".equals(find("#registry-status").getDomAttribute("data-up")));
        // Gone from the address bar: the token is spent and kept nowhere.
        assertThat(chromium.driver.getCurrentUrl()).doesNotContain("token");
    }

    @AfterAll
    static void closeTheConsole() throws Exception {
        Awaitility.reset();
        if (chromium != null) {
            chromium.close();
        }
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void theTreeShowsTheSpawnerAndAQueueSpawnedFromThePage() throws Exception {
        String spawnerId = attribute("#tree li[data-id^='spawner-'][data-state='RUNNING']", "data-id");
        assertThat(text("#tree li[data-id='" + spawnerId + "']")).contains(spawnerId, "spawner", "RUNNING", "127.0.0.1");

        type("#spawn-type", "queue");
        type("#spawn-name", "console-orders");
        click("#spawn-button");
        confirm();
        String toast = await().atMost(PATIENCE).until(() -> find("#action-result").getText(), text -> text.startsWith("Spawning "));
        queueId = toast.substring("Spawning ".length()).strip();
        assertThat(queueId).startsWith("queue-");

        // Under its spawner, RUNNING, as the registry says.
        await().atMost(PATIENCE).until(
                () -> find("#tree li[data-id='" + spawnerId + "'] li[data-id='" + queueId + "'][data-state='RUNNING']"), e -> e != null);
        assertThat(text("#tree li[data-id='" + queueId + "']")).contains("queue", "RUNNING", "#1", "direct");
        assertThat(fabric.registry().get(queueId).state()).isEqualTo(InstanceState.RUNNING);
        chromium.screenshot("tree");
    }

    @Test
    @Order(2)
    void aKilledQueueShowsDeadThenRunningAtIncarnationTwoWithoutAReload() {
        chromium.driver.executeScript("window.notReloaded = true;");
        Object layoutBefore = layout();
        long pid = Long.parseLong(fabric.registry().get(queueId).metadata().get("pid"));
        assertThat(ProcessHandle.of(pid)).as("the queue's process").isPresent();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL

        await().atMost(PATIENCE).until(() -> find("#changes li[data-id='" + queueId + "'][data-to='DEAD']"), e -> e != null);
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "'][data-state='RUNNING'][data-incarnation='2']"), e -> e != null);
        assertThat(chromium.driver.executeScript("return window.notReloaded === true;")).isEqualTo(true);
        assertThat(text("#tree li[data-id='" + queueId + "']")).contains("RUNNING", "#2");
        assertThat(layout()).as("the rows, the banner and the changes list kept their places and sizes").isEqualTo(layoutBefore);
    }

    @Test
    @Order(3)
    void theKeyboardMovesAlongTheTreeAndOpensAMember() {
        chromium.driver.executeScript("document.querySelector(\"#tree li[data-id^='spawner-'] .member-link\").focus();");
        new Actions(chromium.driver).sendKeys(Keys.ARROW_DOWN).perform();
        await().atMost(PATIENCE).until(() -> chromium.driver.switchTo().activeElement().getText(), queueId::equals);
        new Actions(chromium.driver).sendKeys(Keys.ENTER).perform();
        await().atMost(PATIENCE).until(() -> find("#member-title"), e -> e != null && e.getText().contains(queueId));
        chromium.driver.navigate().back();
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "']"), e -> e != null);
    }

    @Test
    @Order(4)
    void atTwoHundredPercentZoomNothingScrollsSideways() throws Exception {
        // Browser zoom halves the viewport in CSS pixels: 1280x900 at 200 % is 640x450.
        Dimension normal = chromium.driver.manage().window().getSize();
        try {
            chromium.driver.manage().window().setSize(new Dimension(640, (int) (450 + normal.getHeight() - viewportHeight())));
            for (String view : List.of("/#/", "/#/member/" + queueId, "/#/sessions", "/#/charts")) {
                chromium.driver.get(console.base() + view);
                await().atMost(PATIENCE).until(() -> "true".equals(find("#registry-status").getDomAttribute("data-up")));
                Object overflow = chromium.driver.executeScript(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
                assertThat(((Number) overflow).intValue()).as("sideways overflow of " + view).isLessThanOrEqualTo(0);
            }
            chromium.driver.get(console.base() + "/#/");
            await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "']"), e -> e != null);
            chromium.screenshot("tree-200-percent");
        } finally {
            chromium.driver.manage().window().setSize(normal);
        }
    }

    @Test
    @Order(5)
    void theMembersPageShowsItsHistoryRoleStatusLogAndSessions() throws Exception {
        click("#tree a.member-link[href='#/member/" + queueId + "']");
        await().atMost(PATIENCE).until(() -> find("#member-title"), e -> e != null && e.getText().contains(queueId));
        assertThat(text("#member-incarnation")).isEqualTo("2");
        await().atMost(PATIENCE).until(() -> find("#history tr[data-to='DEAD']"), e -> e != null);
        assertThat(find("#history tr[data-to='RUNNING'][data-incarnation='2']")).isNotNull();
        await().atMost(PATIENCE).until(() -> find("#role-status"), e -> e != null);
        assertThat(text("#role-status")).contains("queue", "RUNNING");
        // Its log's end, read by the spawner's launcher from the member's directory.
        await().atMost(PATIENCE).until(() -> find("#log-text"), e -> e != null);
        assertThat(find("#log-text").getDomProperty("textContent")).contains(queueId);

        type("#session-id", "s-console");
        click("#session-add");
        confirm();
        await().atMost(PATIENCE).until(() -> find("#session-list li[data-session='s-console']"), e -> e != null);
        chromium.screenshot("member");

        chromium.driver.get(console.base() + "/#/sessions");
        await().atMost(PATIENCE).until(() -> find("#sessions tr[data-session='s-console']"), e -> e != null);
        assertThat(text("#sessions tr[data-session='s-console']")).contains(queueId, "RUNNING");
        chromium.screenshot("sessions");

        chromium.driver.get(console.base() + "/#/member/" + queueId);
        click("#session-list li[data-session='s-console'] button");
        confirm();
        await().atMost(PATIENCE).until(() -> find("#member-title") != null && find("#session-list li[data-session='s-console']") == null);
        assertThat(fabric.cli().run("sessions", "show", "s-console").err()).contains("no member serves session s-console");
    }

    @Test
    @Order(6)
    void theChartsDrawWhatTheRegistryShows() throws Exception {
        chromium.driver.get(console.base() + "/#/charts");
        await().atMost(PATIENCE).until(() -> find("#chart-states polyline"), e -> e != null);
        await().atMost(PATIENCE).until(() -> find("#chart-states-text").getText(), text -> text.contains("RUNNING"));
        chromium.screenshot("charts");
    }

    @Test
    @Order(7)
    void restartThenStopFromThePage() {
        chromium.driver.get(console.base() + "/#/member/" + queueId);
        click("#action-restart");
        confirm();
        await().atMost(PATIENCE).until(() -> find("#member-incarnation"), e -> e != null && e.getText().equals("3"));
        await().atMost(PATIENCE).until(() -> find("#member-title .state"), e -> e != null && e.getText().equals("RUNNING"));
        assertThat(fabric.registry().get(queueId).incarnation()).isEqualTo(3);
        assertThat(find("#history tr[data-to='RUNNING'][data-incarnation='3']")).isNotNull();

        click("#action-stop");
        confirm();
        await().atMost(PATIENCE).until(() -> fabric.registry().get(queueId).state() == InstanceState.STOPPED);
        await().atMost(PATIENCE).until(() -> find("#member-title .state"), e -> e != null && e.getText().equals("STOPPED"));
    }

    @Test
    @Order(8)
    void theFiltersKeepTheTreeATree() {
        chromium.driver.get(console.base() + "/#/");
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "'][data-state='STOPPED']"), e -> e != null);
        filter("#filter-state", "STOPPED");
        // The stopped queue matches; its spawner does not, and stays, dimmed, as its parent.
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id^='spawner-'] > .row.context"), e -> e != null);
        assertThat(attribute("#tree li[data-id='" + queueId + "'] > .row", "class")).isEqualTo("row");
        filter("#filter-state", "");
        filter("#filter-role", "spawner");
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "']") == null);
        assertThat(attribute("#tree li[data-id^='spawner-'] > .row", "class")).isEqualTo("row");
        filter("#filter-role", "");
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='" + queueId + "']"), e -> e != null);
    }

    @Test
    @Order(9)
    void anUnknownMemberIdSaysSo() throws Exception {
        chromium.driver.get(console.base() + "/#/member/queue-nosuchone");
        await().atMost(PATIENCE).until(() -> find("#no-such-member"), e -> e != null);
        assertThat(text("#no-such-member")).isEqualTo("No such member");
        assertThat(text("#view-member")).contains("queue-nosuchone");
        chromium.screenshot("no-such-member");
    }

    @Test
    @Order(10)
    void thePagesRequestsAndAnswersCarryNoKeyMaterial() throws Exception {
        List<String> log = chromium.networkLog();
        String all = String.join("\n", log);
        assertThat(all).as("the browser's network log").contains("/api/events", "eventSourceMessageReceived", "/api/members/" + queueId);

        FabricKeys keys = FabricKeys.load(fabric.keys());
        List<String> secrets = new ArrayList<>(List.of(
                Base64.getEncoder().encodeToString(keys.privateKeyDer()),
                Base64.getUrlEncoder().withoutPadding().encodeToString(keys.privateKeyDer())));
        // The PEM's lines, and the last 32 bytes of the PKCS#8 (the Ed25519 seed) alone.
        keys.privateKeyPem().lines().filter(line -> !line.startsWith("-----")).forEach(secrets::add);
        byte[] der = keys.privateKeyDer();
        byte[] seed = java.util.Arrays.copyOfRange(der, der.length - 32, der.length);
        secrets.add(Base64.getEncoder().withoutPadding().encodeToString(seed));
        secrets.add(Base64.getUrlEncoder().withoutPadding().encodeToString(seed));
        secrets.add(java.util.HexFormat.of().formatHex(seed));

        // Every answer's body, read again with the page's own cookie: the network log has headers and events, not bodies.
        Cookie cookie = chromium.driver.manage().getCookieNamed("fabric_console");
        assertThat(cookie.isHttpOnly()).isTrue();
        assertThat(cookie.getSameSite()).isEqualTo("Strict");
        HttpClient http = HttpClient.newHttpClient();
        StringBuilder bodies = new StringBuilder();
        for (String url : consoleUrls(all)) {
            if (url.endsWith("/api/events") || url.contains("/login")) {
                continue;
            }
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url)).header("Cookie", "fabric_console=" + cookie.getValue())
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            bodies.append(url).append('\n').append(answer.headers().map()).append('\n').append(answer.body()).append('\n');
        }
        assertThat(bodies).as("the answers' bodies").contains("/console.js", "\"instance\"");
        for (String secret : secrets) {
            assertThat(all).as("the network log").doesNotContain(secret);
            assertThat(bodies.toString()).as("the answers").doesNotContain(secret);
        }
        assertThat(all.toLowerCase()).as("no request signature between page and console")
                .doesNotContain("signature-input").doesNotContain("\"signature\"").doesNotContain("content-digest");
        assertThat(bodies.toString()).doesNotContain("PRIVATE KEY");
    }

    private static Set<String> consoleUrls(String log) {
        Set<String> urls = new LinkedHashSet<>();
        Matcher url = Pattern.compile("\"url\":\"(" + Pattern.quote(console.base()) + "[^\"]*)\"").matcher(log);
        while (url.find()) {
            urls.add(url.group(1).replace("\\u0026", "&"));
        }
        return urls;
    }

    /** Where the tree's rows, the banner and the changes list are, and how big: what must not move when data updates. */
    private static Object layout() {
        return chromium.driver.executeScript("const box = e => { const r = e.getBoundingClientRect();"
                + " return [r.left, r.top, r.width, r.height].map(Math.round).join(','); };"
                + " return [...document.querySelectorAll('#tree .row, #registry-status, #changes')].map(box).join(' ');");
    }

    private static long viewportHeight() {
        return ((Number) chromium.driver.executeScript("return window.innerHeight;")).longValue();
    }

    /**
     * Clicks the element once it is there and shown; the page re-renders a view when its data change,
     * so an element found a moment ago may be gone: find it again and retry.
     */
    private static void click(String css) {
        await().atMost(PATIENCE).until(() -> {
            WebElement element = find(css);
            if (element == null || !element.isDisplayed()) {
                return false;
            }
            element.click();
            return true;
        });
    }

    /** The element's text once it is there, read again when a re-render replaced it meanwhile. */
    private static String text(String css) {
        return await().atMost(PATIENCE).until(() -> find(css).getText(), text -> true);
    }

    private static String attribute(String css, String name) {
        return await().atMost(PATIENCE).until(() -> find(css).getDomAttribute(name), value -> true);
    }

    /** Types into a field, again from the start when a re-render replaced it meanwhile. */
    private static void type(String css, String value) {
        await().atMost(PATIENCE).until(() -> {
            WebElement field = find(css);
            field.clear();
            field.sendKeys(value);
            return value.equals(find(css).getDomProperty("value"));
        });
    }

    /** Chooses a filter's value, as a user picking it in the list does. */
    private static void filter(String select, String value) {
        chromium.driver.executeScript("const s = document.querySelector(arguments[0]); s.value = arguments[1];"
                + " s.dispatchEvent(new Event('change'));", select, value);
    }

    /** The confirmation dialog every action opens: confirm it. */
    private static void confirm() {
        await().atMost(Duration.ofSeconds(10)).until(() -> find("#confirm[open]"), e -> e != null);
        click("#confirm-ok");
    }

    private static WebElement find(String css) {
        List<WebElement> found = chromium.driver.findElements(By.cssSelector(css));
        return found.isEmpty() ? null : found.getFirst();
    }
}
