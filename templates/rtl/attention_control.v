// had-hls: the control that had_attention_core and fp_attention_core share (one instance, ``ctl``, in each).
//   load       L beats: Q rows -> qmem, K rows + key valid -> P banks (key j in bank j mod P, row j div P), and, with
//              VBANK = 1 (FP core), V rows in the same banks; ld / ld_we out for the HAD core's V replicas
//   A0 / A1    the job counters (one job per (query i, head h), G beats of P keys, job parity a_bank), the Q / K
//              reads, the head select of Q and of every K lane and the lane valid (keys past L-1 in the last
//              group masked): a1_* / a_q / a_k / a_lv are the inputs of the core's score lanes
//   buffer     the score buffer of BD rows (HAD: hbuf, FP: sbuf), written in job order at buf_we, read in job
//              order by the second pass (circular: a job's beats are read back BD rows after they were written)
//   B0 / B1    the second pass: starts at b_start (the job's threshold / running max is final) on slot
//              b_start_bank, G beats; b1_* = the beat read from the buffer with its job's facts (b1_lj: the last
//              job of the input)
//   back end   softmax_av_lanes (PV lanes: S and AV), normalise_row (DN elements a cycle, NC cycles a job), the
//              context row assembled in a shift register and emitted after head H-1, the back-pressure enable en
//              (the whole pipeline holds while a finished row cannot leave) and busy.
// Every parameter is derived once, in Python (had_hls.rtl.generate.design_for), and passed down: none is
// derived here (the defaults are those of L = 8, E = 8, H = 1, N = 4, P = 4, for reading only).
`default_nettype none
module attention_control #(
    parameter L    = 8,
    parameter E    = 8,
    parameter H    = 1,
    parameter P    = 4,
    parameter D    = 8,     // E / H
    parameter G    = 2,     // ceil(L / P): beats per job
    parameter LASTW = 4,    // lanes holding a key in the last beat: L - (G - 1) P
    parameter XB   = 7,     // counter bits
    parameter QW   = 1,     // bits of a Q / K element (HAD: 1, the sign bit)
    parameter VW   = 16,
    parameter VBANK = 0,    // 1: V banked with K here (read at v_re, row v_g)
    parameter BLW  = 5,     // score buffer row: P lanes of BLW bits
    parameter BD   = 10,    // score buffer rows
    parameter PV   = 2,     // AV lanes (HAD: PA, FP: P)
    parameter EW   = 18,
    parameter SUMW = 21,
    parameter AVW  = 40,
    parameter DN   = 4,
    parameter NC   = 2,     // D / DN
    parameter RW   = 18,
    parameter R    = 10,
    parameter NPW  = 59,
    parameter CW   = 16,
    parameter VF   = 10,
    parameter RF   = 17,
    parameter CF   = 10,
    parameter RECIP_FILE = "recip_table.hex"
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               in_valid,
    output wire               in_ready,
    input  wire [E*QW-1:0]    in_q,
    input  wire [E*QW-1:0]    in_k,
    input  wire [E*VW-1:0]    in_v,
    input  wire               in_pad,
    output reg                ctx_valid,
    input  wire               ctx_ready,
    output reg  [E*CW-1:0]    ctx_data,
    output wire               busy,
    output wire               en,        // pipeline enable (0 while a finished row waits)
    output wire               ld_we,     // load beat ld written this cycle
    output reg  [XB-1:0]      ld,
    // A1: the beat of P keys against the job's query, head selected
    output reg                a1_v, a1_bank, a1_first, a1_last,
    output reg  [XB-1:0]      a1_h,
    output wire [P-1:0]       a_lv,
    output wire [D*QW-1:0]    a_q,
    output wire [P*D*QW-1:0]  a_k,
    // score buffer
    input  wire               buf_we,
    input  wire [P*BLW-1:0]   buf_wd,
    output reg  [P*BLW-1:0]   buf_rd,    // B1: the beat's row
    // second pass
    input  wire               b_start,
    input  wire               b_start_bank,
    output reg                b1_v, b1_bank, b1_first, b1_last, b1_lj,
    output reg  [XB-1:0]      b1_h, b1_g, b1_key,
    // V bank (VBANK = 1)
    input  wire               v_re,
    input  wire [XB-1:0]      v_g,
    output wire [P*E*VW-1:0]  v_rd,
    // AV lanes in: e and the head's V row of PV keys, the job's head and last flag
    input  wire               av_v, av_first, av_last, av_lj,
    input  wire [XB-1:0]      av_h,
    input  wire [PV*EW-1:0]   av_e,
    input  wire [PV*D*VW-1:0] av_vv
);
    reg run;
    assign busy = run;
    assign in_ready = !run && !rst;
    assign ld_we = in_valid && in_ready;

    // ---------------------------------------------------------------- pipeline enable (back-pressure)
    reg n_active, n_lj;
    reg [XB-1:0] n_k, n_h;
    wire c_emit;                                  // this cycle completes a context row (normaliser output)
    wire c_stall = c_emit && ctx_valid && !ctx_ready;
    assign en = !c_stall;

    reg [XB-1:0] ld_p, ld_r;

    // ---------------------------------------------------------------- stage A0: job counters, memory reads
    reg a_active, a_bank;
    reg [XB-1:0] a_g, a_i, a_h, a1_g;
    wire a_fire = en && a_active;

    reg [E*QW-1:0] qmem [0:L-1];
    reg [E*QW-1:0] q_rd;
    always @(posedge clk) begin
        if (ld_we) qmem[ld] <= in_q;
        if (a_fire) q_rd <= qmem[a_i];
    end

    wire [P*E*QW-1:0] k_rd;
    wire [P-1:0] vld_rd;
    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : kb
            localparam DEP0 = (L - p + P - 1) / P;
            localparam DEP = (DEP0 > 0) ? DEP0 : 1;
            reg [E*QW-1:0] kmem [0:DEP-1];
            reg            vldmem [0:DEP-1];
            reg [E*QW-1:0] rd;
            reg            vrd;
            always @(posedge clk) begin
                if (ld_we && ld_p == p) begin
                    kmem[ld_r] <= in_k;
                    vldmem[ld_r] <= !in_pad;
                end
                if (a_fire) begin
                    rd <= kmem[a_g];
                    vrd <= vldmem[a_g];
                end
            end
            assign k_rd[p*E*QW +: E*QW] = rd;
            assign vld_rd[p] = vrd;
            if (VBANK) begin : vb
                reg [E*VW-1:0] vmem [0:DEP-1];
                reg [E*VW-1:0] vd;
                always @(posedge clk) begin
                    if (ld_we && ld_p == p) vmem[ld_r] <= in_v;
                    if (en && v_re) vd <= vmem[v_g];
                end
                assign v_rd[p*E*VW +: E*VW] = vd;
            end else begin : no_vb
                assign v_rd[p*E*VW +: E*VW] = {E*VW{1'b0}};
            end
        end
    endgenerate

    // ---------------------------------------------------------------- stage A1: head select, lane valid
    word_select #(.W(D*QW), .N(H), .SB(XB)) a_qsel (.in(q_rd), .sel(a1_h), .out(a_q));
    generate
        for (p = 0; p < P; p = p + 1) begin : a_lane
            assign a_lv[p] = vld_rd[p] && (!a1_last || p < LASTW);
            wire [D*QW-1:0] kh;
            word_select #(.W(D*QW), .N(H), .SB(XB)) ksel (.in(k_rd[p*E*QW +: E*QW]), .sel(a1_h), .out(kh));
            // lanes past key L-1 in the last group read rows that were never written (x in 4-state simulation);
            // padded keys are masked by the lane valid (the cores skip them: no score, e = 0)
            if (p < LASTW) begin : in_range
                assign a_k[p*D*QW +: D*QW] = kh;
            end else begin : tail
                assign a_k[p*D*QW +: D*QW] = a1_last ? {D*QW{1'b0}} : kh;
            end
        end
    endgenerate

    // ---------------------------------------------------------------- score buffer (circular, job order)
    reg [XB-1:0] bf_wr, bf_rd;
    reg [P*BLW-1:0] sbuf [0:BD-1];
    always @(posedge clk) if (en && buf_we) sbuf[bf_wr] <= buf_wd;

    // ---------------------------------------------------------------- stage B0: the second pass reads the buffer
    reg b_active, b_bank;
    reg [XB-1:0] b_g, b_key, b_h, b_i;      // beat, its first key; job head and query (B counts jobs in order)
    always @(posedge clk) if (en && b_active) buf_rd <= sbuf[bf_rd];

    // ---------------------------------------------------------------- S and AV (PV lanes)
    wire [SUMW-1:0] av_sum;
    wire [D*AVW-1:0] av_acc;
    wire av_done, av_done_lj;                     // S and AV of a job final (pipelined: the job's head and last flag
    wire [XB-1:0] av_done_h;                      // travel with it)
    softmax_av_lanes #(.P(PV), .D(D), .EW(EW), .VW(VW), .SUMW(SUMW), .AVW(AVW), .TW(XB + 1)) av_u (
        .clk(clk), .rst(rst), .en(en), .in_v(av_v), .in_first(av_first), .in_last(av_last), .e(av_e),
        .v(av_vv), .in_tag({av_h, av_lj}), .sum(av_sum), .av(av_acc), .done(av_done),
        .out_tag({av_done_h, av_done_lj}));

    // ---------------------------------------------------------------- stage C: normalise (DN elements per cycle)
    wire [DN*CW-1:0] ctx_dn;
    wire o_v, o_row_end, o_fin;                   // a normalised group leaves; it ends a context row / the input
    normalise_row #(.D(D), .DN(DN), .SUMW(SUMW), .AVW(AVW), .RW(RW), .R(R), .NPW(NPW), .CW(CW), .VF(VF), .RF(RF),
                    .CF(CF), .TW(2), .RECIP_FILE(RECIP_FILE)) norm_u (
        .clk(clk), .rst(rst), .en(en), .load(av_done), .step(n_active), .sum(av_sum), .acc(av_acc),
        .in_tag({n_k == NC - 1 && n_h == H - 1, n_k == NC - 1 && n_h == H - 1 && n_lj}), .ctx(ctx_dn), .out_v(o_v),
        .out_tag({o_row_end, o_fin}));
    assign c_emit = o_v && o_row_end;
    reg [E*CW-1:0] ctxrow;                        // shift register: the row's elements enter at the top, in order
    wire [E*CW-1:0] row_next;
    generate
        if (E == DN) begin : row_one
            assign row_next = ctx_dn;
        end else begin : row_shift
            assign row_next = {ctx_dn, ctxrow[E*CW-1:DN*CW]};
        end
    endgenerate

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        if (rst) begin
            run <= 1'b0; ld <= 0; ld_p <= 0; ld_r <= 0;
            a_active <= 1'b0; a_bank <= 1'b0; a_g <= 0; a_i <= 0; a_h <= 0;
            a1_v <= 1'b0; bf_wr <= 0; bf_rd <= 0;
            b_active <= 1'b0; b_h <= 0; b_i <= 0; b1_v <= 1'b0;
            n_active <= 1'b0; ctx_valid <= 1'b0;
        end else begin
            // load: token ld -> qmem[ld], bank ld mod P row ld div P
            if (ld_we) begin
                if (ld == L - 1) begin
                    ld <= 0; ld_p <= 0; ld_r <= 0;
                    run <= 1'b1;
                    a_active <= 1'b1; a_g <= 0; a_i <= 0; a_h <= 0;   // a_bank runs on: job parity
                end else begin
                    ld <= ld + 1'b1;
                    if (ld_p == P - 1) begin ld_p <= 0; ld_r <= ld_r + 1'b1; end
                    else ld_p <= ld_p + 1'b1;
                end
            end
            if (en) begin
                // A0
                if (a_active) begin
                    if (a_g == G - 1) begin
                        a_g <= 0;
                        a_bank <= !a_bank;
                        if (a_h == H - 1) begin
                            a_h <= 0;
                            a_i <= a_i + 1'b1;
                            if (a_i == L - 1) a_active <= 1'b0;
                        end else begin
                            a_h <= a_h + 1'b1;
                        end
                    end else begin
                        a_g <= a_g + 1'b1;
                    end
                end
                // A1
                a1_v <= a_active; a1_g <= a_g; a1_h <= a_h; a1_bank <= a_bank;
                a1_first <= (a_g == 0); a1_last <= (a_g == G - 1);
                // the core's score beat enters the buffer
                if (buf_we) bf_wr <= (bf_wr == BD - 1) ? 0 : bf_wr + 1'b1;
                // B0: starts when the core says the job's first pass is final (jobs in order: B counts head and
                // query itself)
                if (b_active && b_g == G - 1) begin   // a job ends: the next one's head and query
                    if (b_h == H - 1) begin
                        b_h <= 0;
                        b_i <= (b_i == L - 1) ? 0 : b_i + 1'b1;
                    end else begin
                        b_h <= b_h + 1'b1;
                    end
                end
                if (b_start) begin
                    b_active <= 1'b1; b_g <= 0; b_key <= 0; b_bank <= b_start_bank;
                end else if (b_active) begin
                    if (b_g == G - 1) b_active <= 1'b0;
                    b_g <= b_g + 1'b1;
                    b_key <= b_key + P;
                end
                if (b_active) bf_rd <= (bf_rd == BD - 1) ? 0 : bf_rd + 1'b1;
                // B1
                b1_v <= b_active; b1_bank <= b_bank; b1_h <= b_h; b1_g <= b_g; b1_key <= b_key;
                b1_lj <= (b_i == L - 1) && (b_h == H - 1);
                b1_first <= (b_g == 0); b1_last <= (b_g == G - 1);
                // C: load the normaliser (av_done), then NC steps of DN elements; rows assembled at its output
                if (av_done) begin
                    n_active <= 1'b1; n_k <= 0; n_h <= av_done_h; n_lj <= av_done_lj;
                end else if (n_active) begin
                    if (n_k == NC - 1) n_active <= 1'b0;
                    n_k <= n_k + 1'b1;
                end
                if (o_v) begin
                    ctxrow <= row_next;
                    if (o_row_end) begin
                        ctx_data <= row_next;
                        ctx_valid <= 1'b1;
                    end
                    if (o_fin) run <= 1'b0;
                end
            end
            if (ctx_valid && ctx_ready && !(en && c_emit)) ctx_valid <= 1'b0;
        end
    end
endmodule
`default_nettype wire
